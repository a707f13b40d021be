"""Functional problems on classic techniques: dynamic programming and greedy choices."""

from __future__ import annotations

from . import functional, lcg

DP = ("dynamic programming",)

PROBLEMS = [
    functional(
        "climbing_stairs",
        "Climbing stairs",
        "def climb_stairs(n: int) -> int",
        "You climb a staircase of `n` steps (n >= 0), taking either 1 or 2 steps at a time. "
        "Write a function `climb_stairs(n)` that returns the number of different ways to reach "
        "the top. There is exactly one way to climb 0 steps (do nothing).",
        r"""
        def climb_stairs(n):
            a, b = 1, 1
            for _ in range(n):
                a, b = b, a + b
            return a
        """,
        public=[2, 5],
        hidden=[0, 1, 3, 10, 45, 80],
        wrong=[
            r"""
            def climb_stairs(n):
                a, b = 0, 1
                for _ in range(n):
                    a, b = b, a + b
                return a
            """,
            r"""
            def climb_stairs(n):
                if n <= 2:
                    return n
                a, b = 1, 2
                for _ in range(n - 2):
                    a, b = b, a + b
                return b
            """,
        ],
        difficulty="medium",
        tags=DP,
    ),
    functional(
        "coin_change_ways",
        "Coin change: number of ways",
        "def count_ways(coins: list[int], amount: int) -> int",
        "Write a function `count_ways(coins, amount)` that returns the number of different ways "
        "to make `amount` (>= 0) from coins of the distinct positive values in `coins`, using "
        "each value any number of times. The order of the coins does not matter: 1+2 and 2+1 "
        "are the same way. There is one way to make 0.",
        r"""
        def count_ways(coins, amount):
            ways = [1] + [0] * amount
            for c in coins:
                for a in range(c, amount + 1):
                    ways[a] += ways[a - c]
            return ways[amount]
        """,
        public=[([1, 2, 5], 5), ([2], 3)],
        hidden=[
            ([10], 10),
            ([1, 2, 5], 0),
            ([2, 5, 3, 6], 10),
            ([1, 2, 3], 4),
            ([3, 7], 1),
            ([1, 5, 10, 25], 100),
        ],
        wrong=[
            r"""
            def count_ways(coins, amount):
                ways = [1] + [0] * amount
                for a in range(1, amount + 1):
                    for c in coins:
                        if c <= a:
                            ways[a] += ways[a - c]
                return ways[amount]
            """,
            r"""
            def count_ways(coins, amount):
                ways = [0] * (amount + 1)
                for c in coins:
                    for a in range(c, amount + 1):
                        ways[a] += ways[a - c] + (1 if a == c else 0)
                return ways[amount]
            """,
        ],
        difficulty="medium",
        tags=DP,
        alternatives=(
            r"""
            def count_ways(coins, amount):
                def go(i, left):
                    if left == 0:
                        return 1
                    if i == len(coins):
                        return 0
                    return sum(go(i + 1, left - k * coins[i])
                               for k in range(left // coins[i] + 1))
                return go(0, amount)
            """,
        ),
    ),
    functional(
        "minimum_coins",
        "Coin change: fewest coins",
        "def min_coins(coins: list[int], amount: int) -> int",
        "Write a function `min_coins(coins, amount)` that returns the smallest number of coins "
        "with values from `coins` (distinct positive integers, each usable any number of "
        "times) that add up exactly to `amount` (>= 0), or -1 if it cannot be done. Note that "
        "taking the largest coin first is not always optimal.",
        r"""
        def min_coins(coins, amount):
            inf = amount + 1
            best = [0] + [inf] * amount
            for a in range(1, amount + 1):
                for c in coins:
                    if c <= a and best[a - c] + 1 < best[a]:
                        best[a] = best[a - c] + 1
            return best[amount] if best[amount] != inf else -1
        """,
        public=[([1, 2, 5], 11), ([2], 3)],
        hidden=[
            ([1], 0),
            ([1], 2),
            ([1, 3, 4], 6),
            ([2, 5, 10, 1], 27),
            ([5, 10], 3),
            ([186, 419, 83, 408], 6249),
            ([7], 14),
        ],
        wrong=[
            r"""
            def min_coins(coins, amount):
                count = 0
                for c in sorted(coins, reverse=True):
                    count += amount // c
                    amount %= c
                return count if amount == 0 else -1
            """,
            r"""
            def min_coins(coins, amount):
                inf = amount + 1
                best = [0] + [inf] * amount
                for a in range(1, amount + 1):
                    for c in coins:
                        if c <= a:
                            best[a] = min(best[a], best[a - c] + 1)
                return best[amount] if best[amount] != inf else 0
            """,
        ],
        difficulty="medium",
        tags=DP,
    ),
    functional(
        "house_robber",
        "House robber",
        "def rob(houses: list[int]) -> int",
        "Houses along a street hold the non-negative amounts of money in `houses`. You may not "
        "take from two adjacent houses. Write a function `rob(houses)` that returns the "
        "largest total you can take.",
        r"""
        def rob(houses):
            take, skip = 0, 0
            for x in houses:
                take, skip = skip + x, max(take, skip)
            return max(take, skip)
        """,
        public=[[1, 2, 3, 1], [2, 7, 9, 3, 1]],
        hidden=[
            [],
            [5],
            [2, 1],
            [2, 1, 1, 2],
            [0, 0, 0],
            [10, 1, 1, 10],
            [1, 3, 1, 3, 100],
            [2, 3, 2],
        ],
        wrong=[
            r"""
            def rob(houses):
                return max(sum(houses[0::2]), sum(houses[1::2]))
            """,
            r"""
            def rob(houses):
                total = 0
                i = 0
                while i < len(houses):
                    if i + 1 < len(houses) and houses[i + 1] > houses[i]:
                        i += 1
                    total += houses[i]
                    i += 2
                return total
            """,
        ],
        difficulty="medium",
        tags=DP,
        alternatives=(
            r"""
            def rob(houses):
                from itertools import combinations
                n = len(houses)
                best = 0
                for r in range(n + 1):
                    for idx in combinations(range(n), r):
                        if all(b - a > 1 for a, b in zip(idx, idx[1:])):
                            best = max(best, sum(houses[i] for i in idx))
                return best
            """,
        ),
    ),
    functional(
        "unique_grid_paths",
        "Paths through a grid",
        "def unique_paths(m: int, n: int) -> int",
        "A robot starts in the top-left cell of a grid with `m` rows and `n` columns (both "
        ">= 1) and may only move right or down. Write a function `unique_paths(m, n)` that "
        "returns the number of different paths to the bottom-right cell.",
        r"""
        def unique_paths(m, n):
            row = [1] * n
            for _ in range(m - 1):
                for j in range(1, n):
                    row[j] += row[j - 1]
            return row[-1]
        """,
        public=[(3, 7), (3, 2)],
        hidden=[(1, 1), (1, 10), (10, 1), (2, 2), (3, 3), (10, 10), (16, 16)],
        wrong=[
            r"""
            from math import comb
            def unique_paths(m, n):
                return comb(m + n, m)
            """,
            r"""
            def unique_paths(m, n):
                return m * n
            """,
        ],
        difficulty="medium",
        tags=DP,
        alternatives=(
            r"""
            from math import comb
            def unique_paths(m, n):
                return comb(m + n - 2, m - 1)
            """,
        ),
    ),
    functional(
        "knapsack_01",
        "0/1 knapsack",
        "def knapsack(weights: list[int], values: list[int], capacity: int) -> int",
        "Item i has weight `weights[i]` and value `values[i]` (positive integers). Write a "
        "function `knapsack(weights, values, capacity)` that returns the largest total value "
        "of a set of items whose total weight is at most `capacity` (>= 0). Each item can be "
        "taken at most once.",
        r"""
        def knapsack(weights, values, capacity):
            best = [0] * (capacity + 1)
            for w, v in zip(weights, values):
                for c in range(capacity, w - 1, -1):
                    best[c] = max(best[c], best[c - w] + v)
            return best[capacity]
        """,
        public=[([1, 3, 4, 5], [1, 4, 5, 7], 7), ([10], [5], 5)],
        hidden=[
            ([], [], 10),
            ([5], [10], 5),
            ([1, 2, 3], [10, 15, 40], 6),
            ([4, 5, 1], [1, 2, 3], 4),
            ([2, 2, 2], [3, 3, 3], 5),
            ([1, 1, 1], [10, 20, 30], 0),
            ([3, 4, 5], [30, 50, 60], 8),
        ],
        wrong=[
            r"""
            def knapsack(weights, values, capacity):
                best = [0] * (capacity + 1)
                for w, v in zip(weights, values):
                    for c in range(w, capacity + 1):
                        best[c] = max(best[c], best[c - w] + v)
                return best[capacity]
            """,
            r"""
            def knapsack(weights, values, capacity):
                items = sorted(zip(weights, values), key=lambda t: t[1] / t[0], reverse=True)
                total = 0
                for w, v in items:
                    if w <= capacity:
                        capacity -= w
                        total += v
                return total
            """,
        ],
        difficulty="medium",
        tags=DP,
        alternatives=(
            r"""
            def knapsack(weights, values, capacity):
                n = len(weights)
                best = 0
                for mask in range(1 << n):
                    w = sum(weights[i] for i in range(n) if mask >> i & 1)
                    if w <= capacity:
                        best = max(best, sum(values[i] for i in range(n) if mask >> i & 1))
                return best
            """,
        ),
    ),
    functional(
        "partition_equal_subset_sum",
        "Split into two equal halves",
        "def can_partition(nums: list[int]) -> bool",
        "Write a function `can_partition(nums)` that returns `True` if the non-empty list of "
        "positive integers `nums` can be split into two groups with equal sums (every element "
        "in exactly one group), and `False` otherwise.",
        r"""
        def can_partition(nums):
            total = sum(nums)
            if total % 2:
                return False
            reachable = {0}
            for x in nums:
                reachable |= {r + x for r in reachable}
            return total // 2 in reachable
        """,
        public=[[1, 5, 11, 5], [1, 2, 3, 5]],
        hidden=[
            [1],
            [2, 2],
            [1, 1, 1],
            [3, 3, 3, 4, 5],
            [2, 2, 3, 5],
            [100, 100],
            [1, 2, 5],
            [1, 2, 3, 4, 5, 6, 7],
        ],
        wrong=[
            r"""
            def can_partition(nums):
                return sum(nums) % 2 == 0
            """,
            r"""
            def can_partition(nums):
                half = sum(nums) / 2
                total = 0
                for x in sorted(nums, reverse=True):
                    if total + x <= half:
                        total += x
                return total == half and len(nums) > 2
            """,
        ],
        difficulty="medium",
        tags=DP,
    ),
    functional(
        "jump_game",
        "Jump game",
        "def can_reach_end(nums: list[int]) -> bool",
        "You start at index 0 of the non-empty list `nums`; from index i you may jump forward "
        "by any number of positions from 0 up to `nums[i]`. Write a function "
        "`can_reach_end(nums)` that returns `True` if you can reach the last index.",
        r"""
        def can_reach_end(nums):
            reach = 0
            for i, x in enumerate(nums):
                if i > reach:
                    return False
                reach = max(reach, i + x)
            return True
        """,
        public=[[2, 3, 1, 1, 4], [3, 2, 1, 0, 4]],
        hidden=[
            [0],
            [1, 0],
            [0, 1],
            [2, 0, 0],
            [1, 1, 0, 1],
            [5, 0, 0, 0, 0, 0],
            [1, 2, 0, 0, 1],
            [2, 5, 0, 0],
        ],
        wrong=[
            r"""
            def can_reach_end(nums):
                i = 0
                while i < len(nums) - 1:
                    if nums[i] == 0:
                        return False
                    i += nums[i]
                return True
            """,
            r"""
            def can_reach_end(nums):
                return 0 not in nums[:-1]
            """,
        ],
        difficulty="medium",
        tags=("greedy",),
    ),
    functional(
        "minimum_path_sum",
        "Minimum path sum",
        "def min_path_sum(grid: list[list[int]]) -> int",
        "The grid `grid` (a non-empty list of equal-length rows of non-negative integers) is "
        "crossed from the top-left cell to the bottom-right cell, moving only right or down. "
        "Write a function `min_path_sum(grid)` that returns the smallest possible sum of the "
        "cells on the path, both ends included.",
        r"""
        def min_path_sum(grid):
            rows, cols = len(grid), len(grid[0])
            best = [[0] * cols for _ in range(rows)]
            for i in range(rows):
                for j in range(cols):
                    if i == 0 and j == 0:
                        best[i][j] = grid[0][0]
                    elif i == 0:
                        best[i][j] = best[i][j - 1] + grid[i][j]
                    elif j == 0:
                        best[i][j] = best[i - 1][j] + grid[i][j]
                    else:
                        best[i][j] = min(best[i - 1][j], best[i][j - 1]) + grid[i][j]
            return best[-1][-1]
        """,
        public=[[[1, 3, 1], [1, 5, 1], [4, 2, 1]], [[1, 2, 3], [4, 5, 6]]],
        hidden=[
            [[5]],
            [[1, 2], [1, 1]],
            [[0, 0], [0, 0]],
            [[1], [2], [3]],
            [[1, 2, 3]],
            [[9, 1, 1], [1, 9, 1], [1, 1, 9]],
            [[1, 9, 9, 9], [1, 1, 9, 9], [9, 1, 1, 1]],
            [[1, 1, 9], [2, 9, 9], [1, 1, 1]],
        ],
        wrong=[
            r"""
            def min_path_sum(grid):
                i = j = 0
                total = grid[0][0]
                rows, cols = len(grid), len(grid[0])
                while i < rows - 1 or j < cols - 1:
                    if i == rows - 1:
                        j += 1
                    elif j == cols - 1:
                        i += 1
                    elif grid[i + 1][j] < grid[i][j + 1]:
                        i += 1
                    else:
                        j += 1
                    total += grid[i][j]
                return total
            """,
            r"""
            def min_path_sum(grid):
                return sum(grid[0]) + sum(row[-1] for row in grid[1:])
            """,
        ],
        difficulty="medium",
        tags=DP,
    ),
    functional(
        "max_non_overlapping_intervals",
        "Most non-overlapping meetings",
        "def max_meetings(intervals: list[list[int]]) -> int",
        "Each element of `intervals` is a meeting [start, end] with start < end. Write a "
        "function `max_meetings(intervals)` that returns the largest number of meetings you can "
        "attend if you cannot be in two meetings at once. A meeting may start at exactly the "
        "time the previous one ends.",
        r"""
        def max_meetings(intervals):
            count = 0
            free_at = None
            for start, end in sorted(intervals, key=lambda iv: iv[1]):
                if free_at is None or start >= free_at:
                    count += 1
                    free_at = end
            return count
        """,
        public=[[[1, 2], [2, 3], [3, 4], [1, 3]], [[1, 2], [1, 2], [1, 2]]],
        hidden=[
            [],
            [[0, 5]],
            [[1, 10], [2, 3], [4, 5]],
            [[5, 6], [1, 2], [3, 4]],
            [[1, 3], [2, 4], [3, 5]],
            [[1, 100], [1, 2], [2, 3], [99, 100]],
        ],
        wrong=[
            r"""
            def max_meetings(intervals):
                count = 0
                free_at = None
                for start, end in sorted(intervals):
                    if free_at is None or start >= free_at:
                        count += 1
                        free_at = end
                return count
            """,
            r"""
            def max_meetings(intervals):
                count = 0
                free_at = None
                for start, end in sorted(intervals, key=lambda iv: iv[1]):
                    if free_at is None or start > free_at:
                        count += 1
                        free_at = end
                return count
            """,
        ],
        difficulty="medium",
        tags=("greedy", "intervals"),
    ),
    functional(
        "merge_intervals",
        "Merge overlapping intervals",
        "def merge_intervals(intervals: list[list[int]]) -> list[list[int]]",
        "Write a function `merge_intervals(intervals)` that merges all overlapping intervals "
        "[start, end] of the list (start <= end) and returns the result sorted by start. "
        "Intervals that touch, like [1, 2] and [2, 3], also merge (into [1, 3]).",
        r"""
        def merge_intervals(intervals):
            out = []
            for start, end in sorted(intervals):
                if out and start <= out[-1][1]:
                    out[-1][1] = max(out[-1][1], end)
                else:
                    out.append([start, end])
            return out
        """,
        public=[[[1, 3], [2, 6], [8, 10], [15, 18]], [[1, 4], [4, 5]]],
        hidden=[
            [],
            [[1, 2]],
            [[5, 6], [1, 2]],
            [[1, 10], [2, 3], [4, 5]],
            [[1, 2], [3, 4]],
            [[2, 3], [1, 2], [0, 1]],
            [[1, 5], [2, 3]],
        ],
        wrong=[
            r"""
            def merge_intervals(intervals):
                out = []
                for start, end in intervals:
                    if out and start <= out[-1][1]:
                        out[-1][1] = max(out[-1][1], end)
                    else:
                        out.append([start, end])
                return out
            """,
            r"""
            def merge_intervals(intervals):
                out = []
                for start, end in sorted(intervals):
                    if out and start <= out[-1][1]:
                        out[-1][1] = end
                    else:
                        out.append([start, end])
                return out
            """,
        ],
        difficulty="medium",
        tags=("sorting", "intervals"),
    ),
    functional(
        "subarray_sum_equals_k",
        "Count subarrays with a given sum",
        "def count_subarrays(nums: list[int], k: int) -> int",
        "Write a function `count_subarrays(nums, k)` that returns how many non-empty "
        "contiguous blocks of `nums` have a sum equal to `k`. The numbers may be negative or "
        "zero.",
        r"""
        def count_subarrays(nums, k):
            seen = {0: 1}
            total = count = 0
            for x in nums:
                total += x
                count += seen.get(total - k, 0)
                seen[total] = seen.get(total, 0) + 1
            return count
        """,
        public=[([1, 1, 1], 2), ([1, 2, 3, 0], 3)],
        hidden=[
            ([], 0),
            ([0], 0),
            ([0, 0], 0),
            ([1, -1, 0], 0),
            ([3], 3),
            ([1, 2, 1, 2, 1], 3),
            ([-1, -1, 1], 0),
            (lcg(11, 200, -5, 5), 4),
        ],
        wrong=[
            r"""
            def count_subarrays(nums, k):
                count = left = total = 0
                for right, x in enumerate(nums):
                    total += x
                    while total > k and left <= right:
                        total -= nums[left]
                        left += 1
                    if total == k:
                        count += 1
                return count
            """,
            r"""
            def count_subarrays(nums, k):
                seen = {}
                total = count = 0
                for x in nums:
                    total += x
                    count += seen.get(total - k, 0)
                    seen[total] = seen.get(total, 0) + 1
                return count
            """,
        ],
        difficulty="medium",
        tags=("prefix sums", "hashing"),
        alternatives=(
            r"""
            def count_subarrays(nums, k):
                n = len(nums)
                return sum(1 for i in range(n) for j in range(i + 1, n + 1)
                           if sum(nums[i:j]) == k)
            """,
        ),
    ),
    functional(
        "longest_increasing_subsequence",
        "Longest increasing subsequence",
        "def lis_length(nums: list[int]) -> int",
        "Write a function `lis_length(nums)` that returns the length of the longest strictly "
        "increasing subsequence of `nums` (elements in their original order, not necessarily "
        "adjacent). An empty list gives 0.",
        r"""
        def lis_length(nums):
            best = []
            for i, x in enumerate(nums):
                best.append(1 + max([best[j] for j in range(i) if nums[j] < x], default=0))
            return max(best, default=0)
        """,
        public=[[10, 9, 2, 5, 3, 7, 101, 18], [3, 10, 2, 1, 20]],
        hidden=[
            [],
            [5],
            [7, 7, 7, 7],
            [1, 2, 3, 4, 5],
            [5, 4, 3, 2, 1],
            [0, 1, 0, 3, 2, 3],
            [4, 10, 4, 3, 8, 9],
            [1, 3, 6, 7, 9, 4, 10, 5, 6],
        ],
        wrong=[
            r"""
            def lis_length(nums):
                best = []
                for i, x in enumerate(nums):
                    best.append(1 + max([best[j] for j in range(i) if nums[j] <= x], default=0))
                return max(best, default=0)
            """,
            r"""
            def lis_length(nums):
                best = cur = 0
                for i, x in enumerate(nums):
                    cur = cur + 1 if i > 0 and nums[i - 1] < x else 1
                    best = max(best, cur)
                return best
            """,
        ],
        difficulty="medium",
        tags=DP,
        alternatives=(
            r"""
            from bisect import bisect_left
            def lis_length(nums):
                tails = []
                for x in nums:
                    k = bisect_left(tails, x)
                    if k == len(tails):
                        tails.append(x)
                    else:
                        tails[k] = x
                return len(tails)
            """,
        ),
    ),
    functional(
        "word_break",
        "Word break",
        "def word_break(s: str, words: list[str]) -> bool",
        "Write a function `word_break(s, words)` that returns `True` if the string `s` can be "
        "written as a concatenation of words from the list `words` (each word may be used any "
        "number of times), and `False` otherwise. The empty string can always be written.",
        r"""
        def word_break(s, words):
            ok = [True] + [False] * len(s)
            for i in range(1, len(s) + 1):
                ok[i] = any(ok[i - len(w)] and s[i - len(w):i] == w
                            for w in words if 0 < len(w) <= i)
            return ok[len(s)]
        """,
        public=[
            ("leetcode", ["leet", "code"]),
            ("catsandog", ["cats", "dog", "sand", "and", "cat"]),
        ],
        hidden=[
            ("", ["a"]),
            ("a", []),
            ("applepenapple", ["apple", "pen"]),
            ("aaaaaaa", ["aaaa", "aaa"]),
            ("cars", ["car", "ca", "rs"]),
            ("abcd", ["a", "abc", "b", "cd"]),
            ("ab", ["a"]),
            ("aab", ["ab", "b"]),
        ],
        wrong=[
            r"""
            def word_break(s, words):
                i = 0
                while i < len(s):
                    for w in words:
                        if w and s.startswith(w, i):
                            i += len(w)
                            break
                    else:
                        return False
                return True
            """,
            r"""
            def word_break(s, words):
                return all(c in "".join(words) for c in s)
            """,
        ],
        difficulty="medium",
        tags=(*DP, "strings"),
    ),
]
