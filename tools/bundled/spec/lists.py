"""Functional problems on lists: aggregates, filtering, searching, reordering."""

from __future__ import annotations

from . import functional, lcg

TAGS = ("lists",)

PROBLEMS = [
    functional(
        "max_of_list",
        "Maximum of a list",
        "def max_of_list(nums: list[int]) -> int",
        "Write a function `max_of_list(nums)` that returns the largest number in the non-empty "
        "list of integers `nums`.",
        r"""
        def max_of_list(nums):
            best = nums[0]
            for x in nums:
                if x > best:
                    best = x
            return best
        """,
        public=[[3, 1, 4, 1, 5], [-7, -2, -9]],
        hidden=[[42], [0, 0, 0], [-1], [5, 4, 3, 2, 1], [1, 2, 3, 4, 100], [10**12, -(10**12)]],
        wrong=[
            r"""
            def max_of_list(nums):
                best = 0
                for x in nums:
                    if x > best:
                        best = x
                return best
            """,
            r"""
            def max_of_list(nums):
                return nums[-1]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "min_of_list",
        "Minimum of a list",
        "def min_of_list(nums: list[int]) -> int",
        "Write a function `min_of_list(nums)` that returns the smallest number in the non-empty "
        "list of integers `nums`.",
        r"""
        def min_of_list(nums):
            best = nums[0]
            for x in nums:
                if x < best:
                    best = x
            return best
        """,
        public=[[3, 1, 4, 1, 5], [-7, -2, -9]],
        hidden=[[42], [0, 0, 0], [-1], [5, 4, 3, 2, 10], [9, 8, 7, 6], [10**12, -(10**12)]],
        wrong=[
            r"""
            def min_of_list(nums):
                best = 0
                for x in nums:
                    if x < best:
                        best = x
                return best
            """,
            r"""
            def min_of_list(nums):
                return nums[0]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "sum_of_list",
        "Sum of a list",
        "def sum_list(nums: list[int]) -> int",
        "Write a function `sum_list(nums)` that returns the sum of the integers in the list "
        "`nums` (0 for an empty list).",
        r"""
        def sum_list(nums):
            total = 0
            for x in nums:
                total += x
            return total
        """,
        public=[[1, 2, 3], [-5, 5, 10]],
        hidden=[[], [7], [-1, -2, -3], [0, 0], [10**15, 10**15], list(range(100))],
        wrong=[
            r"""
            def sum_list(nums):
                total = 0
                for i in range(1, len(nums)):
                    total += nums[i]
                return total
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "sum_of_evens",
        "Sum of even numbers",
        "def sum_of_evens(nums: list[int]) -> int",
        "Write a function `sum_of_evens(nums)` that returns the sum of the even numbers in the "
        "list of integers `nums` (0 if there are none).",
        r"""
        def sum_of_evens(nums):
            return sum(x for x in nums if x % 2 == 0)
        """,
        public=[[1, 2, 3, 4], [5, 7]],
        hidden=[[], [0], [-2, -4, 3], [2], [1, 3, 5, 7, 8], [10, 20, 30]],
        wrong=[
            r"""
            def sum_of_evens(nums):
                return sum(nums[::2])
            """,
            r"""
            def sum_of_evens(nums):
                return sum(x for x in nums if x % 2 == 0 and x > 0)
            """,
        ],
        tags=(*TAGS, "filtering"),
    ),
    functional(
        "count_positives",
        "Count positive numbers",
        "def count_positives(nums: list[int]) -> int",
        "Write a function `count_positives(nums)` that returns how many numbers in the list "
        "`nums` are strictly greater than zero.",
        r"""
        def count_positives(nums):
            return sum(1 for x in nums if x > 0)
        """,
        public=[[1, -2, 3, 0], [-1, -2]],
        hidden=[[], [0, 0, 0], [5], [-5], [1, 2, 3, 4, 5], [0, 1, -1, 2, -2]],
        wrong=[
            r"""
            def count_positives(nums):
                return sum(1 for x in nums if x >= 0)
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "second_largest",
        "Second largest value",
        "def second_largest(nums: list[int]) -> int",
        "Write a function `second_largest(nums)` that returns the second largest distinct value "
        "in the list `nums`, which contains at least two different values. For example the "
        "second largest value of [10, 10, 9] is 9.",
        r"""
        def second_largest(nums):
            return sorted(set(nums))[-2]
        """,
        public=[[3, 1, 4, 1, 5], [10, 10, 9]],
        hidden=[[1, 2], [2, 1], [5, 5, 5, 4], [-1, -2, -3], [7, 7, 8, 8], [100, 50, 100, 75]],
        wrong=[
            r"""
            def second_largest(nums):
                return sorted(nums)[-2]
            """,
            r"""
            def second_largest(nums):
                first = second = 0
                for x in nums:
                    if x > first:
                        first, second = x, first
                    elif first > x > second:
                        second = x
                return second
            """,
        ],
        tags=(*TAGS, "sorting"),
    ),
    functional(
        "reverse_list",
        "Reverse a list",
        "def reverse_list(nums: list[int]) -> list[int]",
        "Write a function `reverse_list(nums)` that returns a new list with the elements of "
        "`nums` in reverse order.",
        r"""
        def reverse_list(nums):
            return nums[::-1]
        """,
        public=[[1, 2, 3], [5, 4]],
        hidden=[[], [1], [1, 1, 2], [-1, 0, 1], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [3, 1, 2]],
        wrong=[
            r"""
            def reverse_list(nums):
                return sorted(nums, reverse=True)
            """,
            r"""
            def reverse_list(nums):
                return nums[:0:-1]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "list_contains",
        "Is the value in the list",
        "def contains(nums: list[int], target: int) -> bool",
        "Write a function `contains(nums, target)` that returns `True` if `target` appears in "
        "the list `nums` and `False` otherwise.",
        r"""
        def contains(nums, target):
            for x in nums:
                if x == target:
                    return True
            return False
        """,
        public=[([1, 2, 3], 2), ([1, 2, 3], 5)],
        hidden=[([], 1), ([0], 0), ([-1, -2], -2), ([1, 2, 3], 3), ([5, 5, 5], 4), ([10], 1)],
        wrong=[
            r"""
            def contains(nums, target):
                for i in range(len(nums) - 1):
                    if nums[i] == target:
                        return True
                return False
            """,
        ],
        tags=(*TAGS, "searching"),
    ),
    functional(
        "index_of",
        "Index of a value",
        "def index_of(nums: list[int], target: int) -> int",
        "Write a function `index_of(nums, target)` that returns the index of the first "
        "occurrence of `target` in the list `nums`, or -1 if it does not occur.",
        r"""
        def index_of(nums, target):
            for i, x in enumerate(nums):
                if x == target:
                    return i
            return -1
        """,
        public=[([4, 5, 6], 5), ([4, 5, 6], 7)],
        hidden=[([], 3), ([1, 2, 1], 1), ([9], 9), ([1, 2, 3], 3), ([7, 7, 7], 7), ([0, -1], -1)],
        wrong=[
            r"""
            def index_of(nums, target):
                found = -1
                for i, x in enumerate(nums):
                    if x == target:
                        found = i
                return found
            """,
            r"""
            def index_of(nums, target):
                return nums.index(target)
            """,
        ],
        tags=(*TAGS, "searching"),
    ),
    functional(
        "count_occurrences_in_list",
        "Count a value",
        "def count_value(nums: list[int], x: int) -> int",
        "Write a function `count_value(nums, x)` that returns how many times `x` appears in "
        "the list `nums`.",
        r"""
        def count_value(nums, x):
            return sum(1 for v in nums if v == x)
        """,
        public=[([1, 2, 2, 3], 2), ([1, 2, 3], 4)],
        hidden=[
            ([], 1),
            ([5, 5, 5, 5], 5),
            ([0], 0),
            ([-1, 1, -1], -1),
            ([1, 2, 3], 1),
            ([2, 1, 2, 1], 1),
        ],
        wrong=[
            r"""
            def count_value(nums, x):
                return sum(1 for i in range(1, len(nums)) if nums[i] == x)
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "remove_duplicates",
        "Remove duplicates, keep order",
        "def remove_duplicates(nums: list[int]) -> list[int]",
        "Write a function `remove_duplicates(nums)` that returns the list `nums` with only the "
        "first occurrence of each value kept, in their original order.",
        r"""
        def remove_duplicates(nums):
            seen = set()
            out = []
            for x in nums:
                if x not in seen:
                    seen.add(x)
                    out.append(x)
            return out
        """,
        public=[[1, 2, 2, 3, 1], [4, 4, 4]],
        hidden=[[], [1], [3, 2, 1, 2, 3], [-1, -1, 0, 0], [5, 6, 7], [2, 1, 2, 1, 3]],
        wrong=[
            r"""
            def remove_duplicates(nums):
                return sorted(set(nums))
            """,
            r"""
            def remove_duplicates(nums):
                out = []
                for x in nums:
                    if not out or out[-1] != x:
                        out.append(x)
                return out
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "is_sorted",
        "Is the list sorted",
        "def is_sorted(nums: list[int]) -> bool",
        "Write a function `is_sorted(nums)` that returns `True` if the list `nums` is sorted in "
        "non-decreasing order (each element is at least the one before it) and `False` "
        "otherwise. Empty and one-element lists are sorted.",
        r"""
        def is_sorted(nums):
            return all(nums[i] <= nums[i + 1] for i in range(len(nums) - 1))
        """,
        public=[[1, 2, 2, 5], [3, 1, 2]],
        hidden=[[], [1], [5, 5, 5], [1, 3, 2], [2, 1], [-3, -2, -1], [1, 2, 3, 4, 0]],
        wrong=[
            r"""
            def is_sorted(nums):
                return all(nums[i] < nums[i + 1] for i in range(len(nums) - 1))
            """,
            r"""
            def is_sorted(nums):
                return nums[0] <= nums[-1]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "keep_odd_numbers",
        "Keep the odd numbers",
        "def keep_odds(nums: list[int]) -> list[int]",
        "Write a function `keep_odds(nums)` that returns a list of the odd numbers in `nums`, "
        "in their original order. Negative numbers can be odd too.",
        r"""
        def keep_odds(nums):
            return [x for x in nums if x % 2 != 0]
        """,
        public=[[1, 2, 3, 4, 5], [2, 4]],
        hidden=[[], [-3, -2, -1], [0], [7], [1, 1, 2, 2], [10, 11, 12, 13]],
        wrong=[
            r"""
            def keep_odds(nums):
                return nums[1::2]
            """,
            r"""
            def keep_odds(nums):
                return [x for x in nums if x > 0 and x % 2 == 1]
            """,
        ],
        tags=(*TAGS, "filtering"),
    ),
    functional(
        "double_each",
        "Double every element",
        "def double_each(nums: list[int]) -> list[int]",
        "Write a function `double_each(nums)` that returns a new list with every element of "
        "`nums` multiplied by 2.",
        r"""
        def double_each(nums):
            return [2 * x for x in nums]
        """,
        public=[[1, 2, 3], [-1, 0]],
        hidden=[[], [5], [0, 0], [10**9], [-7, 7], [1, 1, 1, 1]],
        wrong=[
            r"""
            def double_each(nums):
                return [x + 2 for x in nums]
            """,
            r"""
            def double_each(nums):
                return nums + nums
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "cumulative_sum",
        "Running sum",
        "def running_sum(nums: list[int]) -> list[int]",
        "Write a function `running_sum(nums)` that returns a list whose i-th element is the "
        "sum of `nums[0]` through `nums[i]`. For example [1, 2, 3, 4] gives [1, 3, 6, 10].",
        r"""
        def running_sum(nums):
            out = []
            total = 0
            for x in nums:
                total += x
                out.append(total)
            return out
        """,
        public=[[1, 2, 3, 4], [5, -5, 5]],
        hidden=[[], [7], [0, 0, 0], [-1, -2, -3], [100, 200], [1, 1, 1, 1, 1]],
        wrong=[
            r"""
            def running_sum(nums):
                return [sum(nums[:i]) for i in range(len(nums))]
            """,
        ],
        tags=(*TAGS, "prefix sums"),
    ),
    functional(
        "product_of_list",
        "Product of a list",
        "def product(nums: list[int]) -> int",
        "Write a function `product(nums)` that returns the product of the integers in the list "
        "`nums`. The product of an empty list is 1.",
        r"""
        def product(nums):
            result = 1
            for x in nums:
                result *= x
            return result
        """,
        public=[[1, 2, 3, 4], [-2, 5]],
        hidden=[[], [0, 5, 6], [7], [-1, -1, -1], [10, 10, 10, 10, 10, 10, 10], [2, 2, 2]],
        wrong=[
            r"""
            def product(nums):
                if not nums:
                    return 0
                result = 1
                for x in nums:
                    result *= x
                return result
            """,
            r"""
            def product(nums):
                result = 1
                for x in nums:
                    if x != 0:
                        result *= x
                return result
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "range_of_list",
        "Range of a list",
        "def value_range(nums: list[int]) -> int",
        "Write a function `value_range(nums)` that returns the difference between the largest "
        "and the smallest number in the non-empty list `nums`.",
        r"""
        def value_range(nums):
            return max(nums) - min(nums)
        """,
        public=[[3, 9, 1], [5, 5]],
        hidden=[[7], [-5, 5], [1, 2, 3, 4, 5], [-10, -20], [0, 100, 50], [42, 41]],
        wrong=[
            r"""
            def value_range(nums):
                return nums[-1] - nums[0]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "merge_sorted_lists",
        "Merge two sorted lists",
        "def merge_sorted(a: list[int], b: list[int]) -> list[int]",
        "Write a function `merge_sorted(a, b)` that merges the two lists `a` and `b`, each "
        "sorted in non-decreasing order, into one sorted list.",
        r"""
        def merge_sorted(a, b):
            i = j = 0
            out = []
            while i < len(a) and j < len(b):
                if a[i] <= b[j]:
                    out.append(a[i])
                    i += 1
                else:
                    out.append(b[j])
                    j += 1
            return out + a[i:] + b[j:]
        """,
        public=[([1, 3, 5], [2, 4, 6]), ([1, 2], [])],
        hidden=[
            ([], []),
            ([], [1]),
            ([1, 1], [1]),
            ([-5, 0], [-3, 10]),
            ([1, 2, 3], [4, 5, 6]),
            ([4, 5, 6], [1, 2, 3]),
        ],
        wrong=[
            r"""
            def merge_sorted(a, b):
                return a + b
            """,
            r"""
            def merge_sorted(a, b):
                i = j = 0
                out = []
                while i < len(a) and j < len(b):
                    if a[i] <= b[j]:
                        out.append(a[i])
                        i += 1
                    else:
                        out.append(b[j])
                        j += 1
                return out + a[i:]
            """,
        ],
        tags=(*TAGS, "two pointers"),
    ),
    functional(
        "rotate_left",
        "Rotate a list left",
        "def rotate_left(nums: list[int], k: int) -> list[int]",
        "Write a function `rotate_left(nums, k)` that returns `nums` rotated left by `k >= 0` "
        "positions: the first element moves to the end, `k` times. `k` may be larger than the "
        "length of the list, and the list may be empty.",
        r"""
        def rotate_left(nums, k):
            if not nums:
                return []
            k %= len(nums)
            return nums[k:] + nums[:k]
        """,
        public=[([1, 2, 3, 4, 5], 2), ([1, 2, 3], 1)],
        hidden=[([], 3), ([1], 5), ([1, 2, 3], 3), ([1, 2, 3], 4), ([1, 2], 0), ([9, 8, 7, 6], 6)],
        wrong=[
            r"""
            def rotate_left(nums, k):
                return nums[k:] + nums[:k]
            """,
            r"""
            def rotate_left(nums, k):
                k %= len(nums)
                return nums[k:] + nums[:k]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "flatten_list",
        "Flatten a list of lists",
        "def flatten(nested: list[list[int]]) -> list[int]",
        "Write a function `flatten(nested)` that returns one list with all the elements of the "
        "inner lists of `nested`, in order. For example [[1, 2], [3]] gives [1, 2, 3].",
        r"""
        def flatten(nested):
            return [x for inner in nested for x in inner]
        """,
        public=[[[1, 2], [3]], [[5], [6, 7], [8]]],
        hidden=[
            [],
            [[]],
            [[1]],
            [[], [1], []],
            [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
            [[-1], [0], [1]],
        ],
        wrong=[
            r"""
            def flatten(nested):
                return [inner[0] for inner in nested if inner]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "pairwise_sum",
        "Element-wise sum",
        "def pairwise_sum(a: list[int], b: list[int]) -> list[int]",
        "Write a function `pairwise_sum(a, b)` that returns a list whose i-th element is "
        "`a[i] + b[i]`. The two lists have the same length.",
        r"""
        def pairwise_sum(a, b):
            return [x + y for x, y in zip(a, b)]
        """,
        public=[([1, 2, 3], [4, 5, 6]), ([0], [0])],
        hidden=[
            ([], []),
            ([-1, -2], [1, 2]),
            ([10], [5]),
            ([1, 1, 1], [2, 2, 2]),
            ([100, 200], [-50, -50]),
            ([5, 0, 5], [0, 5, 0]),
        ],
        wrong=[
            r"""
            def pairwise_sum(a, b):
                return a + b
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "kth_largest",
        "K-th largest element",
        "def kth_largest(nums: list[int], k: int) -> int",
        "Write a function `kth_largest(nums, k)` that returns the k-th largest element of "
        "`nums` (1 <= k <= len(nums)), counting repeated values separately: in [3, 3, 1] the "
        "1st and 2nd largest are both 3.",
        r"""
        def kth_largest(nums, k):
            return sorted(nums, reverse=True)[k - 1]
        """,
        public=[([3, 2, 1, 5, 6, 4], 2), ([3, 2, 3, 1, 2, 4, 5, 5, 6], 4)],
        hidden=[
            ([1], 1),
            ([2, 1], 1),
            ([2, 1], 2),
            ([5, 5, 5], 2),
            ([-1, -5, 3], 3),
            ([7, 6, 5, 4, 3, 2, 1], 7),
        ],
        wrong=[
            r"""
            def kth_largest(nums, k):
                return sorted(nums)[k]
            """,
            r"""
            def kth_largest(nums, k):
                return sorted(set(nums), reverse=True)[k - 1]
            """,
        ],
        tags=(*TAGS, "sorting"),
    ),
    functional(
        "median_of_odd_list",
        "Median",
        "def median(nums: list[int]) -> int",
        "Write a function `median(nums)` that returns the median of the list `nums`, which has "
        "an odd number of elements: the middle value once the list is sorted.",
        r"""
        def median(nums):
            return sorted(nums)[len(nums) // 2]
        """,
        public=[[3, 1, 2], [5, 9, 1, 7, 3]],
        hidden=[
            [4],
            [1, 1, 1],
            [-5, -1, -3],
            [10, 20, 30, 40, 50, 60, 70],
            [2, 2, 1],
            [100, -100, 0],
        ],
        wrong=[
            r"""
            def median(nums):
                return nums[len(nums) // 2]
            """,
            r"""
            def median(nums):
                return sum(nums) // len(nums)
            """,
        ],
        tags=(*TAGS, "sorting"),
    ),
    functional(
        "running_maximum",
        "Running maximum",
        "def running_max(nums: list[int]) -> list[int]",
        "Write a function `running_max(nums)` that returns a list whose i-th element is the "
        "largest of `nums[0]` through `nums[i]`.",
        r"""
        def running_max(nums):
            out = []
            for x in nums:
                out.append(x if not out or x > out[-1] else out[-1])
            return out
        """,
        public=[[1, 3, 2, 5, 4], [5, 4, 3]],
        hidden=[[], [7], [-3, -1, -2], [1, 2, 3], [2, 2, 1, 3], [0, -1, 5, -10, 6]],
        wrong=[
            r"""
            def running_max(nums):
                out = []
                best = 0
                for x in nums:
                    best = max(best, x)
                    out.append(best)
                return out
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "chunk_list",
        "Split a list into chunks",
        "def chunk(nums: list[int], size: int) -> list[list[int]]",
        "Write a function `chunk(nums, size)` that splits `nums` into consecutive pieces of "
        "`size` elements (size >= 1). The last piece may be shorter. For example chunk([1, 2, "
        "3, 4, 5], 2) is [[1, 2], [3, 4], [5]].",
        r"""
        def chunk(nums, size):
            return [nums[i:i + size] for i in range(0, len(nums), size)]
        """,
        public=[([1, 2, 3, 4, 5], 2), ([1, 2, 3], 3)],
        hidden=[
            ([], 2),
            ([1], 1),
            ([1, 2, 3], 5),
            ([1, 2, 3, 4], 1),
            ([1, 2, 3, 4, 5, 6], 3),
            ([9, 8, 7], 2),
        ],
        wrong=[
            r"""
            def chunk(nums, size):
                return [nums[i:i + size] for i in range(0, len(nums) - size + 1, size)]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "move_zeros_to_end",
        "Move zeros to the end",
        "def move_zeros(nums: list[int]) -> list[int]",
        "Write a function `move_zeros(nums)` that returns a list with all the zeros of `nums` "
        "moved to the end, keeping the other elements in their original order.",
        r"""
        def move_zeros(nums):
            rest = [x for x in nums if x != 0]
            return rest + [0] * (len(nums) - len(rest))
        """,
        public=[[0, 1, 0, 3, 12], [0, 0, 1]],
        hidden=[[], [0], [1], [1, 2, 3], [0, 0, 0], [4, 0, 5, 0, 6, 0], [-1, 0, -2]],
        wrong=[
            r"""
            def move_zeros(nums):
                return [x for x in nums if x != 0]
            """,
            r"""
            def move_zeros(nums):
                return sorted(nums, reverse=True)
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "find_missing_number",
        "Find the missing number",
        "def find_missing(nums: list[int]) -> int",
        "The list `nums` holds n distinct numbers taken from 0, 1, ..., n, so exactly one "
        "number of that range is missing. Write a function `find_missing(nums)` that returns "
        "it.",
        r"""
        def find_missing(nums):
            n = len(nums)
            return n * (n + 1) // 2 - sum(nums)
        """,
        public=[[3, 0, 1], [0, 2, 3]],
        hidden=[
            [],
            [1],
            [0],
            [0, 1],
            [9, 6, 4, 2, 3, 5, 7, 0, 1],
            [1, 2, 3],
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10],
        ],
        wrong=[
            r"""
            def find_missing(nums):
                for i in range(len(nums)):
                    if i not in nums:
                        return i
                return -1
            """,
            r"""
            def find_missing(nums):
                n = len(nums)
                return n * (n - 1) // 2 - sum(nums)
            """,
        ],
        tags=(*TAGS, "math"),
    ),
    functional(
        "majority_element",
        "Majority element",
        "def majority(nums: list[int]) -> int",
        "In the list `nums` one value appears more than len(nums) / 2 times. Write a function "
        "`majority(nums)` that returns that value.",
        r"""
        def majority(nums):
            for x in nums:
                if nums.count(x) * 2 > len(nums):
                    return x
        """,
        public=[[3, 2, 3], [2, 2, 1, 1, 1, 2, 2]],
        hidden=[
            [1],
            [5, 5],
            [1, 2, 1],
            [1, 2, 2],
            [7, 7, 7, 1, 2],
            [4, 4, 4, 4, 1, 2, 3],
            [-1, -1, 0],
            [0, 1, 0, 1, 0],
            [3, 9, 9, 9, 3],
        ],
        wrong=[
            r"""
            def majority(nums):
                return nums[len(nums) // 2]
            """,
            r"""
            def majority(nums):
                return nums[0]
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "longest_run_of_equal",
        "Longest run of equal values",
        "def longest_run(nums: list[int]) -> int",
        "Write a function `longest_run(nums)` that returns the length of the longest block of "
        "consecutive equal elements in `nums` (0 for an empty list). For example [1, 1, 2, 2, "
        "2, 3] gives 3.",
        r"""
        def longest_run(nums):
            best = cur = 0
            for i, x in enumerate(nums):
                cur = cur + 1 if i > 0 and nums[i - 1] == x else 1
                best = max(best, cur)
            return best
        """,
        public=[[1, 1, 2, 2, 2, 3], [1, 2, 3]],
        hidden=[[], [5], [4, 4, 4, 4], [1, 2, 2, 1, 1, 1, 1], [0, 0, 1, 0, 0], [9, 9, 8]],
        wrong=[
            r"""
            def longest_run(nums):
                best = cur = 1
                for i in range(1, len(nums)):
                    if nums[i] == nums[i - 1]:
                        cur += 1
                    else:
                        best = max(best, cur)
                        cur = 1
                return best
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "intersection_of_lists",
        "Common values",
        "def common_values(a: list[int], b: list[int]) -> list[int]",
        "Write a function `common_values(a, b)` that returns the values that appear in both "
        "lists `a` and `b`, each value once, sorted in increasing order.",
        r"""
        def common_values(a, b):
            return sorted(set(a) & set(b))
        """,
        public=[([1, 2, 2, 1], [2, 2]), ([4, 9, 5], [9, 4, 9, 8, 4])],
        hidden=[
            ([], [1]),
            ([1, 2, 3], [4, 5]),
            ([1, 1, 1], [1]),
            ([5, 3, 1], [1, 3, 5]),
            ([-1, 0], [0, -1]),
            ([10], [10]),
        ],
        wrong=[
            r"""
            def common_values(a, b):
                return [x for x in a if x in b]
            """,
        ],
        tags=(*TAGS, "sets"),
    ),
    functional(
        "matrix_transpose",
        "Transpose a matrix",
        "def transpose(matrix: list[list[int]]) -> list[list[int]]",
        "Write a function `transpose(matrix)` that returns the transpose of the rectangular "
        "matrix `matrix` (a list of rows): row i of the result is column i of the input. The "
        "transpose of an empty matrix [] is [].",
        r"""
        def transpose(matrix):
            if not matrix:
                return []
            return [[row[j] for row in matrix] for j in range(len(matrix[0]))]
        """,
        public=[[[1, 2, 3], [4, 5, 6]], [[1, 2], [3, 4]]],
        hidden=[
            [[1]],
            [[1, 2, 3]],
            [[1], [2], [3]],
            [[0, 0], [0, 0]],
            [[1, 2], [3, 4], [5, 6]],
            [],
        ],
        wrong=[
            r"""
            def transpose(matrix):
                n = len(matrix)
                return [[matrix[j][i] for j in range(n)] for i in range(n)]
            """,
        ],
        tags=(*TAGS, "matrix"),
    ),
    functional(
        "diagonal_sum",
        "Diagonal sum",
        "def diagonal_sum(matrix: list[list[int]]) -> int",
        "Write a function `diagonal_sum(matrix)` that returns the sum of the main diagonal "
        "(from top-left to bottom-right) of the square matrix `matrix`, given as a list of "
        "rows.",
        r"""
        def diagonal_sum(matrix):
            return sum(matrix[i][i] for i in range(len(matrix)))
        """,
        public=[[[1, 2], [3, 4]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]],
        hidden=[
            [[5]],
            [[0, 1], [1, 0]],
            [[-1, 0], [0, -1]],
            [[1, 0, 0, 2], [0, 3, 4, 0], [0, 5, 6, 0], [7, 0, 0, 8]],
            [[2, 9], [9, 2]],
            [[100]],
        ],
        wrong=[
            r"""
            def diagonal_sum(matrix):
                n = len(matrix)
                return sum(matrix[i][n - 1 - i] for i in range(n))
            """,
            r"""
            def diagonal_sum(matrix):
                return sum(row[0] for row in matrix)
            """,
        ],
        tags=(*TAGS, "matrix"),
    ),
    functional(
        "binary_search",
        "Binary search",
        "def binary_search(nums: list[int], target: int) -> int",
        "Write a function `binary_search(nums, target)` that returns the index of `target` in "
        "the list `nums`, which is sorted in increasing order with distinct values, or -1 if "
        "`target` is not in it.",
        r"""
        def binary_search(nums, target):
            lo, hi = 0, len(nums) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                if nums[mid] == target:
                    return mid
                if nums[mid] < target:
                    lo = mid + 1
                else:
                    hi = mid - 1
            return -1
        """,
        public=[([1, 3, 5, 7, 9], 7), ([1, 3, 5, 7, 9], 4)],
        hidden=[
            ([], 1),
            ([5], 5),
            ([5], 1),
            ([1, 3, 5, 7, 9], 1),
            ([1, 3, 5, 7, 9], 9),
            ([-10, -5, 0, 5, 10], -5),
            (list(range(0, 1000, 2)), 998),
        ],
        wrong=[
            r"""
            def binary_search(nums, target):
                lo, hi = 0, len(nums) - 1
                while lo < hi:
                    mid = (lo + hi) // 2
                    if nums[mid] == target:
                        return mid
                    if nums[mid] < target:
                        lo = mid + 1
                    else:
                        hi = mid - 1
                return -1
            """,
        ],
        tags=(*TAGS, "binary search"),
    ),
    functional(
        "best_time_to_buy_and_sell",
        "Best time to buy and sell",
        "def max_profit(prices: list[int]) -> int",
        "`prices[i]` is the price of a stock on day i. Write a function `max_profit(prices)` "
        "that returns the largest profit you can make by buying on one day and selling on a "
        "later day, or 0 if no profit is possible.",
        r"""
        def max_profit(prices):
            best = 0
            low = None
            for p in prices:
                if low is None or p < low:
                    low = p
                best = max(best, p - low)
            return best
        """,
        public=[[7, 1, 5, 3, 6, 4], [7, 6, 4, 3, 1]],
        hidden=[[], [5], [1, 2], [2, 4, 1], [3, 3, 3], [2, 1, 2, 1, 0, 1, 2], [1, 100, 0, 50]],
        wrong=[
            r"""
            def max_profit(prices):
                if not prices:
                    return 0
                return max(prices) - min(prices)
            """,
            r"""
            def max_profit(prices):
                best = 0
                for i in range(len(prices) - 1):
                    best = max(best, prices[i + 1] - prices[i])
                return best
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "greedy"),
    ),
    functional(
        "two_sum",
        "Two sum",
        "def two_sum(nums: list[int], target: int) -> list[int]",
        "Write a function `two_sum(nums, target)` that returns the indices [i, j], with i < j, "
        "of the two elements of `nums` that add up to `target`. Exactly one such pair exists, "
        "and an element may not be used twice.",
        r"""
        def two_sum(nums, target):
            seen = {}
            for j, x in enumerate(nums):
                if target - x in seen:
                    return [seen[target - x], j]
                seen.setdefault(x, j)
        """,
        public=[([2, 7, 11, 15], 9), ([3, 2, 4], 6)],
        hidden=[
            ([3, 3], 6),
            ([1, 5, 9], 14),
            ([-3, 4, 3, 90], 0),
            ([0, 4, 3, 0], 0),
            ([1, 2, 3, 4, 5], 9),
            ([5, 75, 25], 100),
        ],
        wrong=[
            r"""
            def two_sum(nums, target):
                for i in range(len(nums)):
                    for j in range(i, len(nums)):
                        if nums[i] + nums[j] == target:
                            return [i, j]
            """,
            r"""
            def two_sum(nums, target):
                for i in range(len(nums) - 1):
                    if nums[i] + nums[i + 1] == target:
                        return [i, i + 1]
                return [0, 1]
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "hashing"),
        alternatives=(
            # Brute force that also proves each test has exactly one answer.
            r"""
            def two_sum(nums, target):
                pairs = [[i, j] for i in range(len(nums)) for j in range(i + 1, len(nums))
                         if nums[i] + nums[j] == target]
                assert len(pairs) == 1, pairs
                return pairs[0]
            """,
        ),
    ),
    functional(
        "maximum_subarray_sum",
        "Maximum subarray sum",
        "def max_subarray(nums: list[int]) -> int",
        "Write a function `max_subarray(nums)` that returns the largest sum of a non-empty "
        "contiguous block of elements of the non-empty list `nums`. If every number is "
        "negative, the answer is the largest single number.",
        r"""
        def max_subarray(nums):
            best = cur = nums[0]
            for x in nums[1:]:
                cur = max(x, cur + x)
                best = max(best, cur)
            return best
        """,
        public=[[-2, 1, -3, 4, -1, 2, 1, -5, 4], [5, 4, -1, 7, 8]],
        hidden=[
            [1],
            [-1],
            [-3, -2, -5],
            [0, 0, 0],
            [2, -1, 2],
            [-1, 3, -1, 3, -1],
            [100, -200, 150],
        ],
        wrong=[
            r"""
            def max_subarray(nums):
                best = cur = 0
                for x in nums:
                    cur = max(0, cur + x)
                    best = max(best, cur)
                return best
            """,
            r"""
            def max_subarray(nums):
                return sum(x for x in nums if x > 0)
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "dynamic programming"),
        alternatives=(
            r"""
            def max_subarray(nums):
                return max(sum(nums[i:j]) for i in range(len(nums))
                           for j in range(i + 1, len(nums) + 1))
            """,
        ),
    ),
    functional(
        "count_inversions",
        "Count inversions",
        "def count_inversions(nums: list[int]) -> int",
        "An inversion in `nums` is a pair of positions i < j with nums[i] > nums[j]. Write a "
        "function `count_inversions(nums)` that returns the number of inversions (the list has "
        "at most 300 elements).",
        r"""
        def count_inversions(nums):
            n = len(nums)
            return sum(1 for i in range(n) for j in range(i + 1, n) if nums[i] > nums[j])
        """,
        public=[[2, 4, 1, 3, 5], [5, 4, 3, 2, 1]],
        hidden=[
            [],
            [1],
            [1, 2, 3],
            [2, 2, 2],
            [3, 1, 2],
            [1, 3, 2, 3, 1],
            list(range(100, 0, -1)),
            lcg(7, 300, -50, 50),
        ],
        wrong=[
            r"""
            def count_inversions(nums):
                n = len(nums)
                return sum(1 for i in range(n) for j in range(i + 1, n) if nums[i] >= nums[j])
            """,
            r"""
            def count_inversions(nums):
                return sum(1 for i in range(len(nums) - 1) if nums[i] > nums[i + 1])
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "counting"),
    ),
    functional(
        "product_except_self",
        "Product of all other elements",
        "def product_except_self(nums: list[int]) -> list[int]",
        "Write a function `product_except_self(nums)` that returns a list whose i-th element "
        "is the product of every element of `nums` except `nums[i]`. The list may contain "
        "zeros. For a one-element list the answer is [1].",
        r"""
        def product_except_self(nums):
            n = len(nums)
            out = [1] * n
            left = 1
            for i in range(n):
                out[i] = left
                left *= nums[i]
            right = 1
            for i in range(n - 1, -1, -1):
                out[i] *= right
                right *= nums[i]
            return out
        """,
        public=[[1, 2, 3, 4], [2, 3]],
        hidden=[[5], [0, 1, 2], [0, 0, 3], [-1, 1, 0, -3, 3], [1, 1, 1], [2, 2, 2, 2]],
        wrong=[
            r"""
            def product_except_self(nums):
                total = 1
                for x in nums:
                    total *= x
                return [total // x for x in nums]
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "prefix sums"),
        alternatives=(
            r"""
            def product_except_self(nums):
                out = []
                for i in range(len(nums)):
                    p = 1
                    for j, x in enumerate(nums):
                        if j != i:
                            p *= x
                    out.append(p)
                return out
            """,
        ),
    ),
]
