"""Stdin problems, medium: prefix sums, greedy choices, dynamic programming, grids."""

from __future__ import annotations

from . import lcg, stdin

IO = ("input/output",)
DP = ("dynamic programming",)


def _line(nums: list[int]) -> str:
    return " ".join(map(str, nums))


def _prefix_queries(seed: int, n: int, q: int) -> str:
    a = lcg(seed, n, -1000, 1000)
    ends = lcg(seed + 1, 2 * q, 1, n)
    pairs = [sorted(ends[2 * i : 2 * i + 2]) for i in range(q)]
    return f"{n} {q}\n{_line(a)}\n" + "\n".join(f"{lo} {hi}" for lo, hi in pairs)


def _grid(seed: int, rows: int, cols: int, chars: str, weights: list[int]) -> list[str]:
    picks = lcg(seed, rows * cols, 0, sum(weights) - 1)
    out = []
    for r in range(rows):
        row = ""
        for v in picks[r * cols : (r + 1) * cols]:
            k = 0
            while v >= weights[k]:
                v -= weights[k]
                k += 1
            row += chars[k]
        out.append(row)
    return out


def _maze(seed: int, rows: int, cols: int) -> str:
    grid = [list(row) for row in _grid(seed, rows, cols, ".#", [7, 3])]
    grid[0][0] = "S"
    grid[-1][-1] = "E"
    return f"{rows} {cols}\n" + "\n".join("".join(row) for row in grid)


PROBLEMS = [
    stdin(
        "stdin_prefix_sum_queries",
        "Range sum queries",
        """
        Answer many range-sum questions about one list of integers. With up to 100000 numbers
        and queries, adding up each range one by one may be too slow: precompute prefix sums.

        Input: the first line holds n and q; the second line holds the n integers
        a1 ... an; each of the next q lines holds two positions l and r (1 <= l <= r <= n).
        Output: q lines; line i holds a_l + a_(l+1) + ... + a_r for the i-th query.
        """,
        r"""
        import sys
        data = sys.stdin.read().split()
        n, q = int(data[0]), int(data[1])
        prefix = [0]
        for x in data[2:2 + n]:
            prefix.append(prefix[-1] + int(x))
        out = []
        pos = 2 + n
        for _ in range(q):
            l, r = int(data[pos]), int(data[pos + 1])
            pos += 2
            out.append(prefix[r] - prefix[l - 1])
        print("\n".join(map(str, out)))
        """,
        public=["5 3\n1 2 3 4 5\n1 3\n2 5\n4 4", "3 2\n-1 5 -2\n1 1\n1 3"],
        hidden=[
            "1 1\n7\n1 1",
            "4 3\n0 0 0 0\n1 4\n2 3\n3 3",
            "6 4\n3 -1 4 -1 5 -9\n1 6\n2 2\n3 5\n6 6",
            "2 3\n10 20\n1 2\n2 2\n1 1",
            "5 1\n1000000000 1000000000 1000000000 1000000000 1000000000\n1 5",
            _prefix_queries(3, 2000, 2000),
        ],
        wrong=[
            r"""
            import sys
            data = sys.stdin.read().split()
            n, q = int(data[0]), int(data[1])
            prefix = [0]
            for x in data[2:2 + n]:
                prefix.append(prefix[-1] + int(x))
            pos = 2 + n
            for _ in range(q):
                l, r = int(data[pos]), int(data[pos + 1])
                pos += 2
                print(prefix[r] - prefix[l])
            """,
            r"""
            n, q = map(int, input().split())
            a = list(map(int, input().split()))
            for _ in range(q):
                l, r = map(int, input().split())
                print(sum(a[l:r + 1]))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "prefix sums"),
    ),
    stdin(
        "stdin_two_sum_exists",
        "Pair with a given sum",
        """
        Decide whether two different positions of a list hold numbers that add up to a target.

        Input: the first line holds n (n >= 1) and the target t; the second line holds n
        integers.
        Output: YES if there are positions i != j with a_i + a_j = t, otherwise NO.
        """,
        r"""
        n, t = map(int, input().split())
        seen = set()
        found = False
        for x in map(int, input().split()):
            if t - x in seen:
                found = True
            seen.add(x)
        print("YES" if found else "NO")
        """,
        public=["4 9\n2 7 11 15", "3 10\n1 2 3"],
        hidden=[
            "1 4\n2",
            "2 4\n2 2",
            "3 0\n-1 0 1",
            "3 6\n3 1 2",
            "5 -3\n-1 -2 5 7 0",
            "4 100\n50 49 1 0",
            f"2000 1\n{_line([2 * x for x in lcg(5, 2000, -(10**6), 10**6)])}",
            f"2000 777\n{_line(lcg(6, 2000, -1000, 1000))}",
        ],
        wrong=[
            r"""
            n, t = map(int, input().split())
            nums = set(map(int, input().split()))
            print("YES" if any(t - x in nums for x in nums) else "NO")
            """,
            r"""
            n, t = map(int, input().split())
            a = list(map(int, input().split()))
            print("YES" if any(a[i] + a[i + 1] == t for i in range(n - 1)) else "NO")
            """,
        ],
        difficulty="medium",
        tags=(*IO, "hashing"),
        alternatives=(
            r"""
            n, t = map(int, input().split())
            a = list(map(int, input().split()))
            print("YES" if any(a[i] + a[j] == t for i in range(n) for j in range(i + 1, n))
                  else "NO")
            """,
        ),
    ),
    stdin(
        "stdin_min_add_parentheses",
        "Fix the parentheses",
        """
        A string of parentheses must be made balanced (every "(" closed by a later ")", and no
        ")" without an earlier "(" to match) by inserting as few parentheses as possible,
        anywhere in the string. For example "())" needs one more "(" and ")(" needs two.

        Input: one line with a non-empty string of ( and ) characters.
        Output: the smallest number of parentheses to insert.
        """,
        r"""
        open_count = inserted = 0
        for c in input().strip():
            if c == "(":
                open_count += 1
            elif open_count > 0:
                open_count -= 1
            else:
                inserted += 1
        print(inserted + open_count)
        """,
        public=["())", "((("],
        hidden=["()", ")(", "()))((", ")))", "(()())", "())(()", "(", "))((()"],
        wrong=[
            r"""
            s = input().strip()
            print(abs(s.count("(") - s.count(")")))
            """,
            r"""
            open_count = inserted = 0
            for c in input().strip():
                if c == "(":
                    open_count += 1
                elif open_count > 0:
                    open_count -= 1
                else:
                    inserted += 1
            print(inserted)
            """,
        ],
        difficulty="medium",
        tags=(*IO, "greedy", "stack"),
    ),
    stdin(
        "stdin_meeting_rooms",
        "Meeting rooms",
        """
        Find the smallest number of rooms needed to hold all meetings, where a room can hold
        one meeting at a time. A meeting that starts exactly when another ends can use the
        same room.

        Input: the first line holds n (n >= 1); each of the next n lines holds the start and
        end time s < e of one meeting.
        Output: the smallest number of rooms.
        """,
        r"""
        n = int(input())
        events = []
        for _ in range(n):
            s, e = map(int, input().split())
            events.append((s, 1))
            events.append((e, -1))
        events.sort()
        rooms = best = 0
        for _, delta in events:
            rooms += delta
            best = max(best, rooms)
        print(best)
        """,
        public=["3\n0 30\n5 10\n15 20", "2\n7 10\n2 4"],
        hidden=[
            "1\n1 2",
            "3\n1 5\n5 10\n10 15",
            "4\n1 10\n2 9\n3 8\n4 7",
            "5\n1 3\n2 4\n3 5\n4 6\n5 7",
            "3\n1 2\n1 2\n1 2",
            "6\n0 5\n1 2\n2 3\n3 4\n4 6\n5 8",
        ],
        wrong=[
            r"""
            n = int(input())
            meetings = [tuple(map(int, input().split())) for _ in range(n)]
            lo = min(s for s, _ in meetings)
            hi = max(e for _, e in meetings)
            print(max(sum(1 for s, e in meetings if s <= t <= e) for t in range(lo, hi + 1)))
            """,
            r"""
            n = int(input())
            meetings = sorted(tuple(map(int, input().split())) for _ in range(n))
            rooms = 1
            for i in range(1, n):
                if meetings[i][0] < meetings[i - 1][1]:
                    rooms += 1
            print(rooms)
            """,
        ],
        difficulty="medium",
        tags=(*IO, "greedy", "intervals", "sorting"),
        alternatives=(
            r"""
            n = int(input())
            meetings = [tuple(map(int, input().split())) for _ in range(n)]
            lo = min(s for s, _ in meetings)
            hi = max(e for _, e in meetings)
            print(max(sum(1 for s, e in meetings if s <= t < e) for t in range(lo, hi)))
            """,
        ),
    ),
    stdin(
        "stdin_stairs_three_steps",
        "Stairs with 1, 2 or 3 steps",
        """
        You climb a staircase of n steps taking 1, 2 or 3 steps at a time. Count the different
        ways to reach the top (the order of the steps matters; there is one way to climb 0
        steps). The count grows fast, so print it modulo 1000000007.

        Input: one line with n (0 <= n <= 100000).
        Output: the number of ways modulo 1000000007.
        """,
        r"""
        MOD = 1000000007
        n = int(input())
        ways = [1, 1, 2]
        for i in range(3, n + 1):
            ways.append((ways[i - 1] + ways[i - 2] + ways[i - 3]) % MOD)
        print(ways[n] % MOD)
        """,
        public=["3", "4"],
        hidden=["0", "1", "2", "10", "50", "20000"],
        wrong=[
            r"""
            MOD = 1000000007
            n = int(input())
            a, b = 1, 1
            for _ in range(n):
                a, b = b, (a + b) % MOD
            print(a)
            """,
            r"""
            n = int(input())
            ways = [1, 1, 2]
            for i in range(3, n + 1):
                ways.append(ways[i - 1] + ways[i - 2] + ways[i - 3])
            print(ways[n])
            """,
        ],
        difficulty="medium",
        tags=(*IO, *DP),
    ),
    stdin(
        "stdin_grid_paths_with_walls",
        "Paths around walls",
        """
        Count the paths from the top-left cell to the bottom-right cell of a grid, moving only
        right or down and never entering a wall cell (#). If the start or the end is a wall
        there are no paths. Print the count modulo 1000000007.

        Input: the first line holds r and c (1 <= r, c <= 100); each of the next r lines holds
        c characters, each . (free) or # (wall).
        Output: the number of paths modulo 1000000007.
        """,
        r"""
        MOD = 1000000007
        r, c = map(int, input().split())
        grid = [input().strip() for _ in range(r)]
        ways = [[0] * c for _ in range(r)]
        for i in range(r):
            for j in range(c):
                if grid[i][j] == "#":
                    continue
                if i == 0 and j == 0:
                    ways[i][j] = 1
                    continue
                up = ways[i - 1][j] if i > 0 else 0
                left = ways[i][j - 1] if j > 0 else 0
                ways[i][j] = (up + left) % MOD
        print(ways[r - 1][c - 1])
        """,
        public=["3 3\n...\n.#.\n...", "3 4\n....\n....\n...."],
        hidden=[
            "1 1\n.",
            "1 1\n#",
            "2 2\n.#\n#.",
            "2 2\n..\n..",
            "3 3\n.#.\n...\n.#.",
            "4 4\n..#.\n#...\n.#..\n....",
            "2 3\n.#.\n...",
            "100 100\n" + "\n".join(["." * 100] * 100),
            "60 60\n" + "\n".join(_grid(9, 60, 60, ".#", [9, 1])),
        ],
        wrong=[
            r"""
            MOD = 1000000007
            r, c = map(int, input().split())
            grid = [input().strip() for _ in range(r)]
            ways = [[0] * c for _ in range(r)]
            for i in range(r):
                for j in range(c):
                    if i == 0 or j == 0:
                        ways[i][j] = 1
                    elif grid[i][j] == ".":
                        ways[i][j] = (ways[i - 1][j] + ways[i][j - 1]) % MOD
            print(ways[r - 1][c - 1])
            """,
            r"""
            r, c = map(int, input().split())
            grid = [input().strip() for _ in range(r)]
            ways = [[0] * c for _ in range(r)]
            for i in range(r):
                for j in range(c):
                    if grid[i][j] == "#":
                        continue
                    if i == 0 and j == 0:
                        ways[i][j] = 1
                        continue
                    up = ways[i - 1][j] if i > 0 else 0
                    left = ways[i][j - 1] if j > 0 else 0
                    ways[i][j] = up + left
            print(ways[r - 1][c - 1])
            """,
        ],
        difficulty="medium",
        tags=(*IO, *DP, "grid"),
    ),
    stdin(
        "stdin_word_frequency",
        "Word frequency",
        """
        Count how often each word appears in a line.

        Input: one line of lowercase words separated by single spaces.
        Output: one line per distinct word: the word and its count separated by a space.
        Order the lines by count, largest first; words with equal counts go in alphabetical
        order.
        """,
        r"""
        counts = {}
        for w in input().split():
            counts[w] = counts.get(w, 0) + 1
        for w, k in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            print(w, k)
        """,
        public=["the cat and the hat", "b a b a c"],
        hidden=[
            "one",
            "x x x",
            "a b c",
            "to be or not to be",
            "z y z y x",
            "apple banana apple cherry banana apple",
        ],
        wrong=[
            r"""
            counts = {}
            for w in input().split():
                counts[w] = counts.get(w, 0) + 1
            for w, k in sorted(counts.items(), key=lambda item: -item[1]):
                print(w, k)
            """,
            r"""
            counts = {}
            for w in input().split():
                counts[w] = counts.get(w, 0) + 1
            for w in sorted(counts):
                print(w, counts[w])
            """,
        ],
        difficulty="medium",
        tags=(*IO, "hashing", "sorting"),
    ),
    stdin(
        "stdin_max_window_sum",
        "Best window of k numbers",
        """
        Find the largest sum of k consecutive numbers in a list.

        Input: the first line holds n and k (1 <= k <= n <= 100000); the second line holds n
        integers.
        Output: the largest sum of k consecutive numbers.
        """,
        r"""
        n, k = map(int, input().split())
        a = list(map(int, input().split()))
        window = sum(a[:k])
        best = window
        for i in range(k, n):
            window += a[i] - a[i - k]
            best = max(best, window)
        print(best)
        """,
        public=["5 2\n1 3 -2 5 4", "4 4\n1 2 3 4"],
        hidden=[
            "1 1\n-5",
            "3 1\n-1 -2 -3",
            "6 3\n-1 -1 -1 -1 -1 -1",
            "5 3\n5 -10 5 5 5",
            "7 2\n0 0 0 0 0 0 1",
            f"5000 100\n{_line(lcg(12, 5000, -1000, 1000))}",
        ],
        wrong=[
            r"""
            n, k = map(int, input().split())
            a = list(map(int, input().split()))
            best = 0
            for i in range(n - k + 1):
                best = max(best, sum(a[i:i + k]))
            print(best)
            """,
            r"""
            n, k = map(int, input().split())
            a = list(map(int, input().split()))
            print(max(sum(a[i:i + k]) for i in range(n - k)) if n > k else sum(a))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "sliding window"),
        alternatives=(
            r"""
            n, k = map(int, input().split())
            a = list(map(int, input().split()))
            print(max(sum(a[i:i + k]) for i in range(n - k + 1)))
            """,
        ),
    ),
    stdin(
        "stdin_stock_profit_many_trades",
        "Stock trading with many trades",
        """
        You know a stock's price for n days. You may buy and sell as many times as you like,
        but you can hold at most one share at a time (sell before buying again), and you may
        buy and sell on the same day. Find the largest total profit.

        Input: the first line holds n (n >= 1); the second line holds the n prices.
        Output: the largest total profit (0 if no trade helps).
        """,
        r"""
        n = int(input())
        p = list(map(int, input().split()))
        print(sum(max(0, p[i + 1] - p[i]) for i in range(n - 1)))
        """,
        public=["6\n7 1 5 3 6 4", "5\n1 2 3 4 5"],
        hidden=["1\n5", "5\n5 4 3 2 1", "3\n1 5 1", "4\n3 3 3 3", "6\n1 3 2 8 4 9", "2\n10 20"],
        wrong=[
            r"""
            n = int(input())
            p = list(map(int, input().split()))
            best = 0
            low = p[0]
            for x in p:
                low = min(low, x)
                best = max(best, x - low)
            print(best)
            """,
            r"""
            n = int(input())
            p = list(map(int, input().split()))
            print(p[-1] - p[0])
            """,
        ],
        difficulty="medium",
        tags=(*IO, "greedy"),
    ),
    stdin(
        "stdin_longest_common_substring",
        "Longest common substring",
        """
        Find the length of the longest string that appears as a contiguous block in both of
        two strings.

        Input: two lines, each with a non-empty string of lowercase letters (at most 1000
        characters).
        Output: the length of the longest common substring (0 if they share no character).
        """,
        r"""
        a = input().strip()
        b = input().strip()
        best = 0
        prev = [0] * (len(b) + 1)
        for i in range(1, len(a) + 1):
            cur = [0] * (len(b) + 1)
            for j in range(1, len(b) + 1):
                if a[i - 1] == b[j - 1]:
                    cur[j] = prev[j - 1] + 1
                    best = max(best, cur[j])
            prev = cur
        print(best)
        """,
        public=["abcdxyz\nxyzabcd", "hello\nworld"],
        hidden=[
            "a\na",
            "a\nb",
            "abc\nabc",
            "abab\nbaba",
            "xabcy\nzabcw",
            "aaaa\naa",
            "xaybzc\nabc",
        ],
        wrong=[
            r"""
            a = input().strip()
            b = input().strip()
            prev = [0] * (len(b) + 1)
            for x in a:
                cur = [0]
                for j, y in enumerate(b):
                    cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
                prev = cur
            print(prev[-1])
            """,
            r"""
            a = input().strip()
            b = input().strip()
            print(len(set(a) & set(b)))
            """,
        ],
        difficulty="medium",
        tags=(*IO, *DP, "strings"),
        alternatives=(
            r"""
            a = input().strip()
            b = input().strip()
            best = 0
            for i in range(len(a)):
                for j in range(i + 1, len(a) + 1):
                    if a[i:j] in b:
                        best = max(best, j - i)
            print(best)
            """,
        ),
    ),
    stdin(
        "stdin_one_edit_away",
        "One edit away",
        """
        Decide whether one string can be turned into another with at most one edit, where an
        edit inserts one character, deletes one character, or replaces one character.

        Input: two lines, each with a non-empty string of lowercase letters.
        Output: YES if at most one edit is needed, otherwise NO.
        """,
        r"""
        a = input().strip()
        b = input().strip()
        if len(a) > len(b):
            a, b = b, a
        if len(b) - len(a) > 1:
            print("NO")
        elif len(a) == len(b):
            print("YES" if sum(x != y for x, y in zip(a, b)) <= 1 else "NO")
        else:
            i = 0
            while i < len(a) and a[i] == b[i]:
                i += 1
            print("YES" if a[i:] == b[i + 1:] else "NO")
        """,
        public=["pale\nple", "pale\nbake"],
        hidden=[
            "abc\nabc",
            "a\nb",
            "abc\nabcd",
            "abc\nab",
            "abc\nacb",
            "ab\nabcd",
            "abcdef\nabxdef",
            "xabc\nabcx",
            "b\nab",
        ],
        wrong=[
            r"""
            a = input().strip()
            b = input().strip()
            print("YES" if abs(len(a) - len(b)) <= 1 else "NO")
            """,
            r"""
            a = input().strip()
            b = input().strip()
            print("YES" if len(a) == len(b) and sum(x != y for x, y in zip(a, b)) <= 1
                  else "NO")
            """,
        ],
        difficulty="medium",
        tags=(*IO, "strings", "two pointers"),
    ),
    stdin(
        "stdin_largest_island",
        "Largest island",
        """
        A map is a grid of land (1) and water (0) cells. An island is a group of land cells
        connected horizontally or vertically (not diagonally). Find the area (number of
        cells) of the largest island.

        Input: the first line holds r and c (1 <= r, c <= 100); each of the next r lines holds
        c characters, each 0 or 1.
        Output: the area of the largest island (0 if there is no land).
        """,
        r"""
        r, c = map(int, input().split())
        grid = [list(input().strip()) for _ in range(r)]
        best = 0
        for i in range(r):
            for j in range(c):
                if grid[i][j] != "1":
                    continue
                grid[i][j] = "0"
                stack = [(i, j)]
                area = 0
                while stack:
                    y, x = stack.pop()
                    area += 1
                    for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                        if 0 <= ny < r and 0 <= nx < c and grid[ny][nx] == "1":
                            grid[ny][nx] = "0"
                            stack.append((ny, nx))
                best = max(best, area)
        print(best)
        """,
        public=["4 5\n11000\n11000\n00100\n00011", "3 3\n010\n111\n010"],
        hidden=[
            "1 1\n0",
            "1 1\n1",
            "3 3\n101\n010\n101",
            "2 4\n1111\n1111",
            "3 4\n1001\n0000\n1111",
            "4 4\n1100\n0110\n0011\n0001",
            "50 50\n" + "\n".join(_grid(21, 50, 50, "01", [1, 1])),
        ],
        wrong=[
            r"""
            r, c = map(int, input().split())
            grid = [list(input().strip()) for _ in range(r)]
            best = 0
            for i in range(r):
                for j in range(c):
                    if grid[i][j] != "1":
                        continue
                    grid[i][j] = "0"
                    stack = [(i, j)]
                    area = 0
                    while stack:
                        y, x = stack.pop()
                        area += 1
                        for dy in (-1, 0, 1):
                            for dx in (-1, 0, 1):
                                ny, nx = y + dy, x + dx
                                if 0 <= ny < r and 0 <= nx < c and grid[ny][nx] == "1":
                                    grid[ny][nx] = "0"
                                    stack.append((ny, nx))
                    best = max(best, area)
            print(best)
            """,
            r"""
            r, c = map(int, input().split())
            grid = [list(input().strip()) for _ in range(r)]
            islands = 0
            for i in range(r):
                for j in range(c):
                    if grid[i][j] != "1":
                        continue
                    islands += 1
                    grid[i][j] = "0"
                    stack = [(i, j)]
                    while stack:
                        y, x = stack.pop()
                        for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                            if 0 <= ny < r and 0 <= nx < c and grid[ny][nx] == "1":
                                grid[ny][nx] = "0"
                                stack.append((ny, nx))
            print(islands)
            """,
        ],
        difficulty="medium",
        tags=(*IO, "grid", "graph search"),
    ),
    stdin(
        "stdin_shortest_path_in_grid",
        "Shortest path in a grid",
        """
        Find the fewest moves from S to E in a grid. Each move goes one cell up, down, left or
        right; walls (#) cannot be entered.

        Input: the first line holds r and c (1 <= r, c <= 100); each of the next r lines holds
        c characters: . (free), # (wall), S (start, exactly one) and E (end, exactly one).
        Output: the fewest moves, or -1 if E cannot be reached.
        """,
        r"""
        from collections import deque
        r, c = map(int, input().split())
        grid = [input().strip() for _ in range(r)]
        start = next((i, j) for i in range(r) for j in range(c) if grid[i][j] == "S")
        dist = {start: 0}
        queue = deque([start])
        answer = -1
        while queue:
            y, x = queue.popleft()
            if grid[y][x] == "E":
                answer = dist[(y, x)]
                break
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < r and 0 <= nx < c and grid[ny][nx] != "#" and (ny, nx) not in dist:
                    dist[(ny, nx)] = dist[(y, x)] + 1
                    queue.append((ny, nx))
        print(answer)
        """,
        public=["3 3\nS..\n.#.\n..E", "3 3\nS#.\n##.\n..E"],
        hidden=[
            "1 2\nSE",
            "2 2\nS#\n#E",
            "1 5\nS...E",
            "5 5\nS....\n####.\n.....\n.####\n....E",
            "3 5\nS.#..\n..#.E\n.....",
            "2 3\nE.S\n...",
            _maze(31, 40, 40),
            _maze(32, 30, 50),
        ],
        wrong=[
            r"""
            r, c = map(int, input().split())
            grid = [input().strip() for _ in range(r)]
            cells = {grid[i][j]: (i, j) for i in range(r) for j in range(c)}
            (sy, sx), (ey, ex) = cells["S"], cells["E"]
            print(abs(sy - ey) + abs(sx - ex))
            """,
            r"""
            from collections import deque
            r, c = map(int, input().split())
            grid = [input().strip() for _ in range(r)]
            start = next((i, j) for i in range(r) for j in range(c) if grid[i][j] == "S")
            dist = {start: 0}
            queue = deque([start])
            answer = -1
            while queue:
                y, x = queue.popleft()
                if grid[y][x] == "E":
                    answer = dist[(y, x)]
                    break
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = y + dy, x + dx
                        if (0 <= ny < r and 0 <= nx < c and grid[ny][nx] != "#"
                                and (ny, nx) not in dist):
                            dist[(ny, nx)] = dist[(y, x)] + 1
                            queue.append((ny, nx))
            print(answer)
            """,
        ],
        difficulty="medium",
        tags=(*IO, "grid", "graph search", "bfs"),
    ),
    stdin(
        "stdin_run_length_decode",
        "Run-length decoding",
        """
        Expand a run-length encoded string. The encoding is a sequence of groups; each group
        is one letter followed by a positive count, which may have several digits. For
        example "a3b12" stands for "aaa" followed by twelve b's.

        Input: one line with the encoded string.
        Output: the decoded string.
        """,
        r"""
        s = input().strip()
        out = []
        i = 0
        while i < len(s):
            ch = s[i]
            j = i + 1
            while j < len(s) and s[j].isdigit():
                j += 1
            out.append(ch * int(s[i + 1:j]))
            i = j
        print("".join(out))
        """,
        public=["a3b2", "x1y1z1"],
        hidden=["a1", "b12", "a10b1", "z2y3x4", "q100", "a1b1a1b1"],
        wrong=[
            r"""
            s = input().strip()
            out = []
            for i in range(0, len(s), 2):
                out.append(s[i] * int(s[i + 1]))
            print("".join(out))
            """,
            r"""
            s = input().strip()
            out = []
            i = 0
            while i < len(s):
                ch = s[i]
                j = i + 1
                while j < len(s) and s[j].isdigit():
                    j += 1
                out.append(ch * (int(s[i + 1:j]) - 1))
                i = j
            print("".join(out))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "strings", "parsing"),
    ),
    stdin(
        "stdin_subset_sum",
        "Subset sum",
        """
        Decide whether some of the given positive numbers (each used at most once) add up
        exactly to a target.

        Input: the first line holds n (1 <= n <= 100) and the target t (1 <= t <= 10000); the
        second line holds n positive integers.
        Output: YES if some subset sums to t, otherwise NO.
        """,
        r"""
        n, t = map(int, input().split())
        reachable = [True] + [False] * t
        for x in map(int, input().split()):
            for s in range(t, x - 1, -1):
                if reachable[s - x]:
                    reachable[s] = True
        print("YES" if reachable[t] else "NO")
        """,
        public=["5 9\n3 34 4 12 5", "5 30\n3 34 4 12 5"],
        hidden=[
            "1 5\n5",
            "1 5\n3",
            "3 6\n1 2 3",
            "4 11\n2 4 6 8",
            "4 15\n8 6 7 5",
            "6 100\n1 2 4 8 16 32",
            "6 50\n1 2 4 8 16 32",
            "3 10\n6 5 5",
        ],
        wrong=[
            r"""
            n, t = map(int, input().split())
            total = 0
            for x in sorted(map(int, input().split()), reverse=True):
                if total + x <= t:
                    total += x
            print("YES" if total == t else "NO")
            """,
            r"""
            n, t = map(int, input().split())
            a = list(map(int, input().split()))
            ok = t in a or any(a[i] + a[j] == t for i in range(n) for j in range(i + 1, n))
            print("YES" if ok else "NO")
            """,
        ],
        difficulty="medium",
        tags=(*IO, *DP),
    ),
    stdin(
        "stdin_rod_cutting",
        "Rod cutting",
        """
        A rod of length n can be cut into pieces of whole lengths; a piece of length i sells
        for p_i. Find the largest total price you can get (the rod may also be sold uncut).

        Input: the first line holds n (1 <= n <= 1000); the second line holds the n prices
        p_1 ... p_n.
        Output: the largest total price.
        """,
        r"""
        n = int(input())
        p = [0] + list(map(int, input().split()))
        best = [0] * (n + 1)
        for length in range(1, n + 1):
            best[length] = max(p[i] + best[length - i] for i in range(1, length + 1))
        print(best[n])
        """,
        public=["4\n1 5 8 9", "8\n1 5 8 9 10 17 17 20"],
        hidden=[
            "1\n5",
            "2\n1 1",
            "3\n3 5 8",
            "5\n2 5 7 8 10",
            "6\n1 1 1 1 1 100",
            "3\n10 1 1",
            "7\n1 5 8 9 10 11 12",
        ],
        wrong=[
            r"""
            n = int(input())
            p = list(map(int, input().split()))
            print(p[n - 1])
            """,
            r"""
            n = int(input())
            p = [0] + list(map(int, input().split()))
            best_len = max(range(1, n + 1), key=lambda i: p[i] / i)
            print(p[best_len] * (n // best_len) + (p[n % best_len] if n % best_len else 0))
            """,
        ],
        difficulty="medium",
        tags=(*IO, *DP),
    ),
    stdin(
        "stdin_longest_zero_sum_block",
        "Longest block with sum zero",
        """
        Find the longest contiguous block of a list of integers whose numbers add up to 0.

        Input: the first line holds n (1 <= n <= 100000); the second line holds n integers.
        Output: the length of the longest such block, or 0 if there is none.
        """,
        r"""
        n = int(input())
        first = {0: 0}
        total = best = 0
        for i, x in enumerate(map(int, input().split()), start=1):
            total += x
            if total in first:
                best = max(best, i - first[total])
            else:
                first[total] = i
        print(best)
        """,
        public=["6\n1 -1 3 2 -2 -3", "5\n1 2 3 4 5"],
        hidden=[
            "1\n0",
            "1\n5",
            "4\n0 0 0 0",
            "5\n3 1 -1 2 -2",
            "6\n1 2 -3 3 -1 -2",
            f"3000\n{_line(lcg(41, 3000, -3, 3))}",
        ],
        wrong=[
            r"""
            n = int(input())
            last = {0: 0}
            total = best = 0
            for i, x in enumerate(map(int, input().split()), start=1):
                total += x
                if total in last:
                    best = max(best, i - last[total])
                last[total] = i
            print(best)
            """,
            r"""
            n = int(input())
            best = cur = 0
            for x in map(int, input().split()):
                cur = cur + 1 if x == 0 else 0
                best = max(best, cur)
            print(best)
            """,
        ],
        difficulty="medium",
        tags=(*IO, "prefix sums", "hashing"),
    ),
    stdin(
        "stdin_interval_union_length",
        "Length covered by intervals",
        """
        Intervals [l, r] are drawn on a number line. Find the total length of the line
        covered by at least one interval (overlapping parts count once).

        Input: the first line holds n (n >= 1); each of the next n lines holds two integers
        l < r.
        Output: the total covered length.
        """,
        r"""
        n = int(input())
        intervals = sorted(tuple(map(int, input().split())) for _ in range(n))
        total = 0
        cur_l, cur_r = intervals[0]
        for l, r in intervals[1:]:
            if l > cur_r:
                total += cur_r - cur_l
                cur_l, cur_r = l, r
            else:
                cur_r = max(cur_r, r)
        total += cur_r - cur_l
        print(total)
        """,
        public=["3\n1 3\n2 5\n7 8", "2\n0 10\n2 3"],
        hidden=[
            "1\n0 1",
            "2\n1 2\n2 3",
            "3\n5 6\n1 2\n3 4",
            "3\n-5 5\n-10 0\n4 10",
            "4\n1 100\n2 3\n50 60\n99 101",
            "2\n1 5\n1 5",
        ],
        wrong=[
            r"""
            n = int(input())
            print(sum(r - l for l, r in (map(int, input().split()) for _ in range(n))))
            """,
            r"""
            n = int(input())
            intervals = [tuple(map(int, input().split())) for _ in range(n)]
            print(max(r for _, r in intervals) - min(l for l, _ in intervals))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "intervals", "sorting"),
    ),
    stdin(
        "stdin_next_greater_element",
        "Next greater element",
        """
        For each number of a list, find the first number to its right that is strictly
        greater, or -1 if there is none.

        Input: the first line holds n (1 <= n <= 100000); the second line holds n integers.
        Output: one line with n answers separated by spaces.
        """,
        r"""
        n = int(input())
        a = list(map(int, input().split()))
        answer = [-1] * n
        stack = []
        for i, x in enumerate(a):
            while stack and a[stack[-1]] < x:
                answer[stack.pop()] = x
            stack.append(i)
        print(" ".join(map(str, answer)))
        """,
        public=["4\n4 5 2 25", "3\n13 7 6"],
        hidden=[
            "1\n5",
            "5\n1 2 3 4 5",
            "5\n5 4 3 2 1",
            "6\n2 1 2 1 3 1",
            "4\n7 7 7 8",
            "6\n1 3 2 4 3 5",
            f"1500\n{_line(lcg(51, 1500, 0, 1000))}",
        ],
        wrong=[
            r"""
            n = int(input())
            a = list(map(int, input().split()))
            print(" ".join(str(a[i + 1]) if i + 1 < n and a[i + 1] > a[i] else "-1"
                           for i in range(n)))
            """,
            r"""
            n = int(input())
            a = list(map(int, input().split()))
            answer = [-1] * n
            stack = []
            for i, x in enumerate(a):
                while stack and a[stack[-1]] <= x:
                    answer[stack.pop()] = x
                stack.append(i)
            print(" ".join(map(str, answer)))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "stack"),
        alternatives=(
            r"""
            n = int(input())
            a = list(map(int, input().split()))
            out = []
            for i in range(n):
                out.append(next((y for y in a[i + 1:] if y > a[i]), -1))
            print(" ".join(map(str, out)))
            """,
        ),
    ),
    stdin(
        "stdin_spiral_order",
        "Spiral order",
        """
        Print the elements of a matrix in spiral order: along the top row left to right, then
        down the right column, then along the bottom row right to left, then up the left
        column, and so on inwards, each element exactly once.

        Input: the first line holds r and c (r, c >= 1); each of the next r lines holds c
        integers.
        Output: one line with the r * c elements in spiral order, separated by spaces.
        """,
        r"""
        r, c = map(int, input().split())
        m = [list(map(int, input().split())) for _ in range(r)]
        seen = [[False] * c for _ in range(r)]
        moves = [(0, 1), (1, 0), (0, -1), (-1, 0)]
        y = x = d = 0
        out = []
        for _ in range(r * c):
            out.append(m[y][x])
            seen[y][x] = True
            ny, nx = y + moves[d][0], x + moves[d][1]
            if not (0 <= ny < r and 0 <= nx < c) or seen[ny][nx]:
                d = (d + 1) % 4
                ny, nx = y + moves[d][0], x + moves[d][1]
            y, x = ny, nx
        print(" ".join(map(str, out)))
        """,
        public=["3 3\n1 2 3\n4 5 6\n7 8 9", "3 4\n1 2 3 4\n5 6 7 8\n9 10 11 12"],
        hidden=[
            "1 1\n5",
            "1 4\n1 2 3 4",
            "4 1\n1\n2\n3\n4",
            "2 2\n1 2\n3 4",
            "2 3\n1 2 3\n4 5 6",
            "4 4\n1 2 3 4\n5 6 7 8\n9 10 11 12\n13 14 15 16",
            "5 3\n1 2 3\n4 5 6\n7 8 9\n10 11 12\n13 14 15",
            "3 5\n1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15",
        ],
        wrong=[
            r"""
            r, c = map(int, input().split())
            m = [list(map(int, input().split())) for _ in range(r)]
            out = []
            for i, row in enumerate(m):
                out.extend(row if i % 2 == 0 else row[::-1])
            print(" ".join(map(str, out)))
            """,
            r"""
            r, c = map(int, input().split())
            m = [list(map(int, input().split())) for _ in range(r)]
            top, bottom, left, right = 0, r - 1, 0, c - 1
            out = []
            while top <= bottom and left <= right:
                for j in range(left, right + 1):
                    out.append(m[top][j])
                for i in range(top + 1, bottom + 1):
                    out.append(m[i][right])
                for j in range(right - 1, left - 1, -1):
                    out.append(m[bottom][j])
                for i in range(bottom - 1, top, -1):
                    out.append(m[i][left])
                top, bottom, left, right = top + 1, bottom - 1, left + 1, right - 1
            print(" ".join(map(str, out)))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "matrix", "simulation"),
    ),
    stdin(
        "stdin_triangle_min_path",
        "Cheapest path down a triangle",
        """
        A triangle of numbers has n rows; row i holds i numbers. Walk from the top to the
        bottom row, each step moving to one of the two numbers just below (the same position
        or the next one in the row below). Find the smallest possible sum of the numbers on
        the path.

        Input: the first line holds n (n >= 1); line i of the next n lines holds the i numbers
        of row i.
        Output: the smallest path sum.
        """,
        r"""
        n = int(input())
        rows = [list(map(int, input().split())) for _ in range(n)]
        best = rows[-1][:]
        for row in reversed(rows[:-1]):
            best = [x + min(best[j], best[j + 1]) for j, x in enumerate(row)]
        print(best[0])
        """,
        public=["4\n2\n3 4\n6 5 7\n4 1 8 3", "3\n1\n2 3\n4 5 6"],
        hidden=[
            "1\n-10",
            "2\n1\n1 1",
            "3\n-1\n2 3\n1 -1 -3",
            "3\n1\n2 3\n9 9 1",
            "4\n5\n1 9\n9 9 1\n1 9 9 9",
            "3\n0\n0 0\n0 0 0",
        ],
        wrong=[
            r"""
            n = int(input())
            rows = [list(map(int, input().split())) for _ in range(n)]
            j = 0
            total = rows[0][0]
            for row in rows[1:]:
                if row[j + 1] < row[j]:
                    j += 1
                total += row[j]
            print(total)
            """,
            r"""
            n = int(input())
            rows = [list(map(int, input().split())) for _ in range(n)]
            print(sum(min(row) for row in rows))
            """,
        ],
        difficulty="medium",
        tags=(*IO, *DP),
        alternatives=(
            r"""
            n = int(input())
            rows = [list(map(int, input().split())) for _ in range(n)]
            def go(i, j):
                if i == n - 1:
                    return rows[i][j]
                return rows[i][j] + min(go(i + 1, j), go(i + 1, j + 1))
            print(go(0, 0))
            """,
        ),
    ),
    stdin(
        "stdin_josephus",
        "Counting-out circle",
        """
        n people stand in a circle, numbered 1 to n. Starting from person 1, count people
        around the circle; every k-th person counted leaves, and counting continues with the
        next person still there. Find who is left last. For example with n = 5 and k = 2 the
        people leave in the order 2, 4, 1, 5, and person 3 is left.

        Input: one line with n and k (1 <= n, k <= 1000).
        Output: the number of the last person left.
        """,
        r"""
        n, k = map(int, input().split())
        people = list(range(1, n + 1))
        i = 0
        while len(people) > 1:
            i = (i + k - 1) % len(people)
            people.pop(i)
        print(people[0])
        """,
        public=["5 2", "7 3"],
        hidden=["1 1", "1 5", "2 1", "6 1", "10 10", "1000 7", "41 3"],
        wrong=[
            r"""
            n, k = map(int, input().split())
            people = list(range(n))
            i = 0
            while len(people) > 1:
                i = (i + k - 1) % len(people)
                people.pop(i)
            print(people[0])
            """,
            r"""
            n, k = map(int, input().split())
            people = list(range(1, n + 1))
            i = 0
            while len(people) > 1:
                i = (i + k) % len(people)
                people.pop(i)
            print(people[0])
            """,
        ],
        difficulty="medium",
        tags=(*IO, "simulation"),
        alternatives=(
            r"""
            n, k = map(int, input().split())
            pos = 0
            for size in range(2, n + 1):
                pos = (pos + k) % size
            print(pos + 1)
            """,
        ),
    ),
    stdin(
        "stdin_anagram_groups",
        "Groups of anagrams",
        """
        Two words are anagrams if one is a rearrangement of the letters of the other, using
        every letter exactly once. Group words so that each group holds words that are all
        anagrams of each other, and count the groups.

        Input: the first line holds n (n >= 1); the second line holds n lowercase words
        separated by spaces.
        Output: the number of groups.
        """,
        r"""
        n = int(input())
        print(len({"".join(sorted(w)) for w in input().split()}))
        """,
        public=["6\neat tea tan ate nat bat", "3\nlisten silent enlist"],
        hidden=[
            "1\na",
            "2\nab ba",
            "2\naab abb",
            "4\nabc bca cab abc",
            "5\na b c a b",
            "6\nrat tar art star tars cheese",
        ],
        wrong=[
            r"""
            n = int(input())
            print(len({frozenset(w) for w in input().split()}))
            """,
            r"""
            n = int(input())
            print(len({len(w) for w in input().split()}))
            """,
        ],
        difficulty="medium",
        tags=(*IO, "hashing", "strings"),
    ),
]
