"""Stdin problems, easy: read input, compute something simple, print it exactly."""

from __future__ import annotations

from . import stdin

IO = ("input/output",)

PROBLEMS = [
    stdin(
        "stdin_sum_two_integers",
        "Sum of two integers",
        """
        Read two integers a and b and print their sum.

        Input: one line with the two integers a and b separated by a space.
        Output: one line with a + b.
        """,
        r"""
        a, b = map(int, input().split())
        print(a + b)
        """,
        public=["3 4", "-5 10"],
        hidden=["0 0", "-1 -1", "1000000000000 1", "7 -7", "123 456", "-100 50"],
        wrong=[
            r"""
            a, b = input().split()
            print(a + b)
            """,
            r"""
            a, b = map(int, input().split())
            print(abs(a + b))
            """,
        ],
        tags=(*IO, "arithmetic"),
    ),
    stdin(
        "stdin_greeting",
        "Greeting",
        """
        Read a name and greet it.

        Input: one line with a name (no spaces).
        Output: one line: Hello, NAME! where NAME is the name read. For example, for Alice
        print "Hello, Alice!".
        """,
        r"""
        name = input().strip()
        print(f"Hello, {name}!")
        """,
        public=["Alice", "Bob"],
        hidden=["X", "Zoe", "Anna-Maria", "o", "Jean", "Li"],
        wrong=[
            r"""
            name = input()
            print("Hello " + name + "!")
            """,
            r"""
            name = input()
            print(f"Hello, {name}")
            """,
        ],
        tags=(*IO, "strings"),
    ),
    stdin(
        "stdin_even_or_odd",
        "Even or odd",
        """
        Read an integer n and say whether it is even or odd.

        Input: one line with an integer n (it may be zero or negative).
        Output: the word even if n is even, otherwise the word odd.
        """,
        r"""
        n = int(input())
        print("even" if n % 2 == 0 else "odd")
        """,
        public=["4", "7"],
        hidden=["0", "-3", "-4", "1", "1000000000001", "2"],
        wrong=[
            r"""
            n = int(input())
            print("even" if n % 2 == 0 and n > 0 else "odd")
            """,
            r"""
            n = int(input())
            print("even" if n % 2 else "odd")
            """,
        ],
        tags=(*IO, "arithmetic"),
    ),
    stdin(
        "stdin_fizzbuzz",
        "FizzBuzz",
        """
        Read an integer n (n >= 1) and print the numbers from 1 to n, one per line, but print
        Fizz instead of numbers divisible by 3, Buzz instead of numbers divisible by 5, and
        FizzBuzz instead of numbers divisible by both 3 and 5.

        Input: one line with the integer n.
        Output: n lines as described.
        """,
        r"""
        n = int(input())
        for i in range(1, n + 1):
            if i % 15 == 0:
                print("FizzBuzz")
            elif i % 3 == 0:
                print("Fizz")
            elif i % 5 == 0:
                print("Buzz")
            else:
                print(i)
        """,
        public=["5", "15"],
        hidden=["1", "3", "10", "30", "2", "16"],
        wrong=[
            r"""
            n = int(input())
            for i in range(1, n + 1):
                if i % 3 == 0:
                    print("Fizz")
                elif i % 5 == 0:
                    print("Buzz")
                elif i % 15 == 0:
                    print("FizzBuzz")
                else:
                    print(i)
            """,
            r"""
            n = int(input())
            for i in range(1, n):
                if i % 15 == 0:
                    print("FizzBuzz")
                elif i % 3 == 0:
                    print("Fizz")
                elif i % 5 == 0:
                    print("Buzz")
                else:
                    print(i)
            """,
        ],
        tags=(*IO, "loops"),
    ),
    stdin(
        "stdin_multiplication_table",
        "Multiplication table",
        """
        Read an integer n and print its multiplication table from 1 to 10.

        Input: one line with an integer n.
        Output: 10 lines; line i (for i = 1 to 10) is "n x i = p" where p = n * i. For
        example the first line for n = 3 is "3 x 1 = 3".
        """,
        r"""
        n = int(input())
        for i in range(1, 11):
            print(f"{n} x {i} = {n * i}")
        """,
        public=["3", "7"],
        hidden=["1", "0", "-2", "12", "100", "9"],
        wrong=[
            r"""
            n = int(input())
            for i in range(1, 10):
                print(f"{n} x {i} = {n * i}")
            """,
            r"""
            n = int(input())
            for i in range(1, 11):
                print(f"{n}*{i}={n * i}")
            """,
        ],
        tags=(*IO, "loops", "formatting"),
    ),
    stdin(
        "stdin_countdown",
        "Countdown",
        """
        Read an integer n (n >= 0) and count down: print n, n-1, ..., 1, one number per line,
        and then a final line with the word Liftoff!

        Input: one line with the integer n.
        Output: the countdown as described (only "Liftoff!" when n is 0).
        """,
        r"""
        n = int(input())
        for i in range(n, 0, -1):
            print(i)
        print("Liftoff!")
        """,
        public=["3", "5"],
        hidden=["0", "1", "10", "2", "7", "20"],
        wrong=[
            r"""
            n = int(input())
            for i in range(n, -1, -1):
                print(i)
            print("Liftoff!")
            """,
            r"""
            n = int(input())
            for i in range(1, n + 1):
                print(i)
            print("Liftoff!")
            """,
        ],
        tags=(*IO, "loops"),
    ),
    stdin(
        "stdin_star_triangle",
        "Triangle of stars",
        """
        Read an integer n (n >= 1) and print a triangle of stars: line i (for i = 1 to n)
        holds i star characters *.

        Input: one line with the integer n.
        Output: n lines as described, with no spaces.
        """,
        r"""
        n = int(input())
        for i in range(1, n + 1):
            print("*" * i)
        """,
        public=["3", "5"],
        hidden=["1", "2", "4", "10", "6", "8"],
        wrong=[
            r"""
            n = int(input())
            for i in range(n):
                print("*" * i)
            """,
            r"""
            n = int(input())
            for i in range(1, n + 1):
                print("*" * n)
            """,
        ],
        tags=(*IO, "loops", "patterns"),
    ),
    stdin(
        "stdin_min_and_max",
        "Smallest and largest",
        """
        Read a list of integers and print the smallest and the largest.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: one line with the smallest and the largest value, separated by a space.
        """,
        r"""
        n = int(input())
        nums = list(map(int, input().split()))
        print(min(nums), max(nums))
        """,
        public=["5\n3 1 4 1 5", "3\n-2 -8 -5"],
        hidden=[
            "1\n7",
            "2\n5 5",
            "4\n-1 0 1 2",
            "6\n100 -100 50 -50 0 1",
            "3\n0 0 -1",
            "5\n9 8 7 6 5",
        ],
        wrong=[
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            lo = hi = 0
            for x in nums:
                lo = min(lo, x)
                hi = max(hi, x)
            print(lo, hi)
            """,
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print(max(nums), min(nums))
            """,
        ],
        tags=(*IO, "lists"),
    ),
    stdin(
        "stdin_sort_numbers",
        "Sort numbers",
        """
        Read a list of integers and print them in increasing order.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: one line with the n integers in increasing order, separated by spaces.
        """,
        r"""
        n = int(input())
        nums = sorted(map(int, input().split()))
        print(" ".join(map(str, nums)))
        """,
        public=["5\n5 3 1 4 2", "3\n10 -1 0"],
        hidden=["1\n42", "4\n2 2 1 1", "6\n-5 -10 0 5 10 -1", "3\n1 2 3", "3\n3 2 1", "2\n100 20"],
        wrong=[
            r"""
            n = int(input())
            print(" ".join(sorted(input().split())))
            """,
            r"""
            n = int(input())
            nums = sorted(map(int, input().split()), reverse=True)
            print(" ".join(map(str, nums)))
            """,
        ],
        tags=(*IO, "sorting"),
    ),
    stdin(
        "stdin_count_words",
        "Count words in a line",
        """
        Read a line of text and print how many words it has. Words are separated by one or
        more spaces, and the line may start or end with spaces. The line holds at least one
        word.

        Input: one line of text.
        Output: the number of words.
        """,
        r"""
        print(len(input().split()))
        """,
        public=["hello world", "one two three four"],
        hidden=["single", "  spaced   out  words ", "a b c d e f g", "x", "The end.", "   leading"],
        wrong=[
            r"""
            print(len(input().split(" ")))
            """,
            r"""
            print(input().count(" ") + 1)
            """,
        ],
        tags=(*IO, "strings", "counting"),
    ),
    stdin(
        "stdin_uppercase",
        "Shout it",
        """
        Read a line of text and print it with every letter in uppercase.

        Input: one line of text.
        Output: the same line in uppercase.
        """,
        r"""
        print(input().upper())
        """,
        public=["hello", "Hello, World!"],
        hidden=["abc xyz", "ALREADY", "123 go", "mIxEd CaSe", "a", "spaces  inside"],
        wrong=[
            r"""
            print(input().capitalize())
            """,
            r"""
            print(input().title())
            """,
        ],
        tags=(*IO, "strings"),
    ),
    stdin(
        "stdin_letter_grade",
        "Letter grade",
        """
        Convert a score to a letter grade: 90 to 100 is A, 80 to 89 is B, 70 to 79 is C,
        60 to 69 is D, and below 60 is F.

        Input: one line with an integer score between 0 and 100.
        Output: the letter grade.
        """,
        r"""
        s = int(input())
        if s >= 90:
            print("A")
        elif s >= 80:
            print("B")
        elif s >= 70:
            print("C")
        elif s >= 60:
            print("D")
        else:
            print("F")
        """,
        public=["95", "72"],
        hidden=["100", "90", "89", "80", "60", "59", "0", "79", "69"],
        wrong=[
            r"""
            s = int(input())
            if s > 90:
                print("A")
            elif s > 80:
                print("B")
            elif s > 70:
                print("C")
            elif s > 60:
                print("D")
            else:
                print("F")
            """,
            r"""
            s = int(input())
            if s >= 90:
                print("A")
            elif s >= 80:
                print("B")
            elif s >= 70:
                print("C")
            else:
                print("F")
            """,
        ],
        tags=(*IO, "conditionals"),
    ),
    stdin(
        "stdin_compare_numbers",
        "Compare two numbers",
        """
        Read two integers a and b and compare them.

        Input: one line with a and b separated by a space.
        Output: the word less if a < b, greater if a > b, or equal if they are equal.
        """,
        r"""
        a, b = map(int, input().split())
        print("less" if a < b else "greater" if a > b else "equal")
        """,
        public=["1 2", "5 3"],
        hidden=["4 4", "-1 -2", "0 0", "-5 5", "100 99", "7 70"],
        wrong=[
            r"""
            a, b = input().split()
            print("less" if a < b else "greater" if a > b else "equal")
            """,
            r"""
            a, b = map(int, input().split())
            print("less" if a < b else "greater")
            """,
        ],
        tags=(*IO, "conditionals"),
    ),
    stdin(
        "stdin_digit_sum",
        "Digit sum of an integer",
        """
        Read an integer n and print the sum of its decimal digits. For a negative number, use
        the digits of its absolute value (the sign is not a digit).

        Input: one line with the integer n.
        Output: the sum of the digits.
        """,
        r"""
        n = abs(int(input()))
        print(sum(int(d) for d in str(n)))
        """,
        public=["123", "-45"],
        hidden=["0", "9", "-9", "1000000", "999999999999", "-100"],
        wrong=[
            r"""
            print(sum(int(d) for d in input().strip()))
            """,
            r"""
            n = int(input())
            total = 0
            while n > 0:
                total += n % 10
                n //= 10
            print(total)
            """,
        ],
        tags=(*IO, "digits"),
    ),
    stdin(
        "stdin_primes_up_to_n",
        "Primes up to n",
        """
        Read an integer n (2 <= n <= 10000) and print every prime number from 2 to n
        inclusive.

        Input: one line with the integer n.
        Output: one line with the primes in increasing order, separated by spaces.
        """,
        r"""
        n = int(input())
        primes = [k for k in range(2, n + 1) if all(k % d for d in range(2, int(k ** 0.5) + 1))]
        print(" ".join(map(str, primes)))
        """,
        public=["10", "20"],
        hidden=["2", "3", "4", "13", "30", "100"],
        wrong=[
            r"""
            n = int(input())
            primes = [k for k in range(2, n) if all(k % d for d in range(2, int(k ** 0.5) + 1))]
            print(" ".join(map(str, primes)))
            """,
            r"""
            n = int(input())
            primes = [k for k in range(1, n + 1) if all(k % d for d in range(2, int(k ** 0.5) + 1))]
            print(" ".join(map(str, primes)))
            """,
        ],
        tags=(*IO, "primes"),
    ),
    stdin(
        "stdin_count_character",
        "Count a character in a line",
        """
        Count how many times a character appears in a line of text. Upper and lower case
        letters are different characters.

        Input: the first line is the text; the second line is a single character.
        Output: how many times the character appears in the text.
        """,
        r"""
        text = input()
        c = input()
        print(text.count(c))
        """,
        public=["banana\na", "hello world\no"],
        hidden=["aaaa\na", "abc\nz", "Apple\na", "x\nx", "Mississippi\ns", "1,2,3\n,", "AAA\nA"],
        wrong=[
            r"""
            text = input()
            c = input()
            print(text.lower().count(c))
            """,
        ],
        tags=(*IO, "strings", "counting"),
    ),
    stdin(
        "stdin_palindrome_word",
        "Palindrome word",
        """
        Decide whether a word reads the same forwards and backwards, ignoring the difference
        between upper and lower case.

        Input: one line with a word (letters only).
        Output: YES if the word is a palindrome, otherwise NO.
        """,
        r"""
        w = input().strip().lower()
        print("YES" if w == w[::-1] else "NO")
        """,
        public=["Level", "hello"],
        hidden=["a", "ab", "aa", "Racecar", "abcba", "abccbx", "Noon"],
        wrong=[
            r"""
            w = input().strip()
            print("YES" if w == w[::-1] else "NO")
            """,
            r"""
            w = input().strip().lower()
            print("Yes" if w == w[::-1] else "No")
            """,
        ],
        tags=(*IO, "strings", "palindromes"),
    ),
    stdin(
        "stdin_gcd_and_lcm",
        "GCD and LCM",
        """
        Read two positive integers a and b and print their greatest common divisor and their
        least common multiple.

        Input: one line with a and b separated by a space.
        Output: one line with the GCD and then the LCM, separated by a space.
        """,
        r"""
        import math
        a, b = map(int, input().split())
        g = math.gcd(a, b)
        print(g, a // g * b)
        """,
        public=["12 18", "7 5"],
        hidden=["1 1", "6 6", "100 75", "17 34", "1 1000000", "48 180"],
        wrong=[
            r"""
            import math
            a, b = map(int, input().split())
            print(math.gcd(a, b), a * b)
            """,
            r"""
            import math
            a, b = map(int, input().split())
            g = math.gcd(a, b)
            print(a // g * b, g)
            """,
        ],
        tags=(*IO, "divisibility"),
    ),
    stdin(
        "stdin_running_totals",
        "Running totals",
        """
        Read a list of integers and print the running totals: the i-th number printed is the
        sum of the first i numbers of the list.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: one line with n running totals separated by spaces.
        """,
        r"""
        n = int(input())
        total = 0
        out = []
        for x in map(int, input().split()):
            total += x
            out.append(total)
        print(" ".join(map(str, out)))
        """,
        public=["4\n1 2 3 4", "3\n5 -2 7"],
        hidden=[
            "1\n10",
            "5\n0 0 0 0 0",
            "3\n-1 -1 -1",
            "2\n1000000000 1000000000",
            "6\n1 -1 1 -1 1 -1",
            "4\n3 0 3 0",
        ],
        wrong=[
            r"""
            n = int(input())
            print(sum(map(int, input().split())))
            """,
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print(" ".join(str(sum(nums[:i])) for i in range(n)))
            """,
        ],
        tags=(*IO, "prefix sums"),
    ),
    stdin(
        "stdin_print_evens",
        "Print the even numbers",
        """
        Read a list of integers and print the even ones.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: one line with the even numbers in their original order, separated by spaces,
        or the word NONE if there are no even numbers.
        """,
        r"""
        n = int(input())
        evens = [x for x in map(int, input().split()) if x % 2 == 0]
        print(" ".join(map(str, evens)) if evens else "NONE")
        """,
        public=["6\n1 2 3 4 5 6", "3\n1 3 5"],
        hidden=["1\n2", "1\n7", "5\n-4 -3 -2 -1 0", "4\n10 20 30 40", "3\n0 0 1", "2\n11 13"],
        wrong=[
            r"""
            n = int(input())
            evens = [x for x in map(int, input().split()) if x % 2 == 0]
            print(" ".join(map(str, evens)))
            """,
            r"""
            n = int(input())
            nums = input().split()
            evens = nums[1::2]
            print(" ".join(evens) if evens else "NONE")
            """,
        ],
        tags=(*IO, "filtering"),
    ),
    stdin(
        "stdin_count_distinct",
        "Count distinct values",
        """
        Read a list of integers and print how many different values it contains.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: the number of distinct values.
        """,
        r"""
        n = int(input())
        print(len(set(map(int, input().split()))))
        """,
        public=["5\n1 2 2 3 3", "4\n7 7 7 7"],
        hidden=[
            "1\n5",
            "6\n1 2 3 4 5 6",
            "3\n-1 1 -1",
            "5\n0 0 0 0 1",
            "8\n3 1 4 1 5 9 2 6",
            "2\n10 10",
        ],
        wrong=[
            r"""
            n = int(input())
            nums = input().split()
            print(sum(1 for x in nums if nums.count(x) == 1))
            """,
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print(1 + sum(1 for i in range(1, n) if nums[i] != nums[i - 1]))
            """,
        ],
        tags=(*IO, "sets", "counting"),
    ),
    stdin(
        "stdin_letter_counts",
        "Letter counts",
        """
        Count the letters of a line of lowercase words.

        Input: one line of lowercase letters and spaces.
        Output: for each letter that appears, in alphabetical order, one line with the letter
        and how many times it appears, separated by a space. Spaces are not counted.
        """,
        r"""
        line = input()
        for c in sorted(set(line)):
            if c != " ":
                print(c, line.count(c))
        """,
        public=["hello", "banana bread"],
        hidden=["a", "zzz aaa", "the quick brown fox", "abc cba", "x y z x", "mississippi"],
        wrong=[
            r"""
            line = input()
            seen = []
            for c in line:
                if c != " " and c not in seen:
                    seen.append(c)
            for c in seen:
                print(c, line.count(c))
            """,
            r"""
            line = input()
            for c in sorted(set(line.replace(" ", ""))):
                print(c, line.count(c) + 1)
            """,
        ],
        tags=(*IO, "strings", "counting"),
    ),
    stdin(
        "stdin_longest_word",
        "Longest word in a line",
        """
        Find the longest word of a line. Words are separated by single spaces; if several words
        share the greatest length, print the first of them.

        Input: one line of words.
        Output: the longest word.
        """,
        r"""
        best = ""
        for w in input().split():
            if len(w) > len(best):
                best = w
        print(best)
        """,
        public=["the quick brown fox", "I like cats"],
        hidden=[
            "a",
            "ab cd",
            "hello world",
            "one three seven",
            "xy xyz x",
            "supercalifragilistic is long",
        ],
        wrong=[
            r"""
            best = ""
            for w in input().split():
                if len(w) >= len(best):
                    best = w
            print(best)
            """,
        ],
        tags=(*IO, "strings"),
    ),
    stdin(
        "stdin_binary_to_decimal",
        "Binary to decimal",
        """
        Convert a binary number to decimal.

        Input: one line with a binary number: a string of 0s and 1s without leading zeros
        (except the number 0 itself).
        Output: its value in decimal.
        """,
        r"""
        value = 0
        for bit in input().strip():
            value = value * 2 + int(bit)
        print(value)
        """,
        public=["101", "11111111"],
        hidden=["0", "1", "10", "1" + "0" * 40, "1100100", "111"],
        wrong=[
            r"""
            print(int(input().strip()[::-1], 2))
            """,
            r"""
            print(int(input().strip()))
            """,
        ],
        tags=(*IO, "bits"),
    ),
    stdin(
        "stdin_initials",
        "Initials",
        """
        Print the initials of a person.

        Input: one line with a first name and a last name separated by a space.
        Output: the two initials, in uppercase, each followed by a dot, with no space: for
        "john smith" print "J.S."
        """,
        r"""
        first, last = input().split()
        print(f"{first[0].upper()}.{last[0].upper()}.")
        """,
        public=["john smith", "Ada Lovelace"],
        hidden=["a b", "Mary Jane", "x Y", "alan turing", "Grace hopper", "bo li"],
        wrong=[
            r"""
            first, last = input().split()
            print(f"{first[0]}.{last[0]}.")
            """,
            r"""
            first, last = input().split()
            print(f"{first[0].upper()}. {last[0].upper()}.")
            """,
        ],
        tags=(*IO, "strings", "formatting"),
    ),
    stdin(
        "stdin_rectangle",
        "Rectangle area and perimeter",
        """
        Read the width and height of a rectangle and print its area and perimeter.

        Input: one line with two integers w and h (0 <= w, h) separated by a space.
        Output: two lines: "Area: A" and then "Perimeter: P", where A = w * h and
        P = 2 * (w + h).
        """,
        r"""
        w, h = map(int, input().split())
        print(f"Area: {w * h}")
        print(f"Perimeter: {2 * (w + h)}")
        """,
        public=["3 4", "10 2"],
        hidden=["1 1", "0 5", "100 200", "7 7", "1 1000000", "12 5"],
        wrong=[
            r"""
            w, h = map(int, input().split())
            print(f"Area: {w * h}")
            print(f"Perimeter: {w + h}")
            """,
            r"""
            w, h = map(int, input().split())
            print(f"Area: {w * h}")
            """,
        ],
        tags=(*IO, "arithmetic", "formatting"),
    ),
    stdin(
        "stdin_seconds_to_clock",
        "Seconds to H:MM:SS",
        """
        Convert a number of seconds to hours, minutes and seconds.

        Input: one line with an integer s >= 0.
        Output: the time as H:MM:SS: the whole hours (any number of digits, no padding), then
        the minutes and the seconds written with two digits each. For example 3661 is 1:01:01.
        """,
        r"""
        s = int(input())
        print(f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}")
        """,
        public=["3661", "59"],
        hidden=["0", "60", "3599", "3600", "86399", "90061"],
        wrong=[
            r"""
            s = int(input())
            print(f"{s // 3600}:{s // 60 % 60}:{s % 60}")
            """,
            r"""
            s = int(input())
            print(f"{s // 3600 % 24}:{s // 60 % 60:02d}:{s % 60:02d}")
            """,
        ],
        tags=(*IO, "arithmetic", "formatting"),
    ),
    stdin(
        "stdin_celsius_to_fahrenheit",
        "Celsius to Fahrenheit",
        """
        Convert a temperature from degrees Celsius to degrees Fahrenheit with
        F = C * 9 / 5 + 32.

        Input: one line with an integer C.
        Output: F with exactly one digit after the decimal point, for example 98.6 or 212.0.
        """,
        r"""
        c = int(input())
        print(f"{c * 9 / 5 + 32:.1f}")
        """,
        public=["100", "37"],
        hidden=["0", "-40", "1", "-273", "25", "-1"],
        wrong=[
            r"""
            c = int(input())
            print(c * 9 // 5 + 32)
            """,
            r"""
            c = int(input())
            print(f"{(c + 32) * 9 / 5:.1f}")
            """,
        ],
        tags=(*IO, "arithmetic", "formatting"),
    ),
    stdin(
        "stdin_sum_until_end",
        "Sum until the end of input",
        """
        Read integers, one per line, until the end of the input, and print their sum. The
        input may be empty; then the sum is 0.

        Input: zero or more lines, each holding one integer.
        Output: the sum of all the integers.
        """,
        r"""
        import sys
        print(sum(int(line) for line in sys.stdin if line.strip()))
        """,
        public=["1\n2\n3", "10\n-5"],
        hidden=[
            "",
            "7",
            "0\n0\n0",
            "-1\n-2\n-3\n-4",
            "1000000000000\n1000000000000",
            "5\n5\n5\n5\n5\n5\n5\n5\n5\n5",
        ],
        wrong=[
            r"""
            print(int(input()))
            """,
            r"""
            import sys
            lines = sys.stdin.read().split()
            print(sum(int(x) for x in lines[1:]))
            """,
        ],
        tags=(*IO, "loops"),
    ),
    stdin(
        "stdin_reverse_lines",
        "Lines in reverse order",
        """
        Read n lines of text and print them in reverse order.

        Input: the first line holds n (n >= 1); each of the next n lines holds some text.
        Output: the n lines of text, last one first.
        """,
        r"""
        n = int(input())
        lines = [input() for _ in range(n)]
        for line in reversed(lines):
            print(line)
        """,
        public=["3\napple\nbanana\ncherry", "2\nhello world\nfoo"],
        hidden=[
            "1\nonly",
            "4\na\nb\nc\nd",
            "3\nx\nx\ny",
            "2\n1 2 3\n4 5 6",
            "5\none\ntwo\nthree\nfour\nfive",
            "2\nab\nba",
        ],
        wrong=[
            r"""
            n = int(input())
            for _ in range(n):
                print(input())
            """,
            r"""
            n = int(input())
            lines = [input() for _ in range(n)]
            for line in lines:
                print(line[::-1])
            """,
        ],
        tags=(*IO, "lists"),
    ),
    stdin(
        "stdin_row_sums",
        "Row sums",
        """
        Read a table of integers and print the sum of each row.

        Input: the first line holds r and c (r, c >= 1); each of the next r lines holds c
        integers separated by spaces.
        Output: r lines; line i holds the sum of row i.
        """,
        r"""
        r, c = map(int, input().split())
        for _ in range(r):
            print(sum(map(int, input().split())))
        """,
        public=["2 3\n1 2 3\n4 5 6", "1 1\n-7"],
        hidden=[
            "3 1\n1\n2\n3",
            "1 4\n1 1 1 1",
            "2 2\n-1 1\n0 0",
            "3 3\n1 2 3\n4 5 6\n7 8 9",
            "2 5\n10 20 30 40 50\n-10 -20 -30 -40 -50",
            "4 2\n0 1\n1 0\n5 5\n100 -100",
        ],
        wrong=[
            r"""
            r, c = map(int, input().split())
            rows = [list(map(int, input().split())) for _ in range(r)]
            for j in range(c):
                print(sum(row[j] for row in rows))
            """,
            r"""
            r, c = map(int, input().split())
            total = 0
            for _ in range(r):
                total += sum(map(int, input().split()))
            print(total)
            """,
        ],
        tags=(*IO, "matrix"),
    ),
    stdin(
        "stdin_caesar_cipher",
        "Caesar cipher",
        """
        Encrypt a line with a Caesar cipher: shift every letter forward in the alphabet by k
        places, wrapping around from z to a (and from Z to A). Uppercase letters stay
        uppercase, lowercase stay lowercase, and all other characters are unchanged.

        Input: the first line holds k (0 <= k <= 25); the second line holds the text.
        Output: the encrypted text.
        """,
        r"""
        k = int(input())
        out = []
        for ch in input():
            if "a" <= ch <= "z":
                out.append(chr((ord(ch) - ord("a") + k) % 26 + ord("a")))
            elif "A" <= ch <= "Z":
                out.append(chr((ord(ch) - ord("A") + k) % 26 + ord("A")))
            else:
                out.append(ch)
        print("".join(out))
        """,
        public=["3\nHello, World!", "1\nabc xyz"],
        hidden=[
            "0\nUnchanged Text",
            "25\nBcd",
            "13\nHello",
            "2\nZz Yy",
            "5\n12345",
            "1\nZebra-Crossing",
        ],
        wrong=[
            r"""
            k = int(input())
            out = []
            for ch in input():
                if "a" <= ch <= "z":
                    out.append(chr((ord(ch) - ord("a") + k) % 26 + ord("a")))
                else:
                    out.append(ch)
            print("".join(out))
            """,
            r"""
            k = int(input())
            print("".join(chr(ord(ch) + k) if ch.isalpha() else ch for ch in input()))
            """,
        ],
        tags=(*IO, "strings", "cipher"),
    ),
    stdin(
        "stdin_vowels_and_consonants",
        "Vowels and consonants",
        """
        Count the vowels and the consonants in a line of text. The vowels are a, e, i, o, u
        in either case; every other letter A-Z or a-z is a consonant. Digits, spaces and
        punctuation are neither.

        Input: one line of text.
        Output: one line with the number of vowels and the number of consonants, separated by
        a space.
        """,
        r"""
        line = input()
        vowels = sum(1 for c in line if c.lower() in "aeiou" and c.isascii() and c.isalpha())
        letters = sum(1 for c in line if c.isascii() and c.isalpha())
        print(vowels, letters - vowels)
        """,
        public=["Hello World", "Programming is fun"],
        hidden=["a", "xyz", "AEIOU bcd", "123 !?", "Rhythm", "Quiet Eagle"],
        wrong=[
            r"""
            line = input()
            vowels = sum(1 for c in line if c.lower() in "aeiou")
            print(vowels, len(line) - vowels)
            """,
            r"""
            line = input()
            vowels = sum(1 for c in line if c in "aeiou")
            letters = sum(1 for c in line if c.isalpha())
            print(vowels, letters - vowels)
            """,
        ],
        tags=(*IO, "strings", "counting"),
    ),
    stdin(
        "stdin_count_above_average",
        "Above average",
        """
        Read a list of integers and print how many of them are strictly greater than their
        average (the average need not be a whole number).

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: the count.
        """,
        r"""
        n = int(input())
        nums = list(map(int, input().split()))
        total = sum(nums)
        print(sum(1 for x in nums if x * n > total))
        """,
        public=["5\n1 2 3 4 5", "4\n10 10 10 20"],
        hidden=[
            "1\n5",
            "3\n7 7 7",
            "4\n1 2 3 4",
            "5\n-5 -4 -3 -2 100",
            "3\n0 0 1",
            "6\n1 1 1 1 1 2",
        ],
        wrong=[
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            avg = sum(nums) / n
            print(sum(1 for x in nums if x >= avg))
            """,
        ],
        tags=(*IO, "lists", "counting"),
    ),
    stdin(
        "stdin_digit_to_word",
        "Digit to word",
        """
        Print the English word for a digit.

        Input: one line with a digit d (0 <= d <= 9).
        Output: the word for d in lowercase: zero, one, two, three, four, five, six, seven,
        eight or nine.
        """,
        r"""
        words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        print(words[int(input())])
        """,
        public=["3", "7"],
        hidden=["0", "1", "2", "4", "5", "6", "8", "9"],
        wrong=[
            r"""
            words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
            print(words[int(input()) - 1])
            """,
        ],
        tags=(*IO, "conditionals"),
    ),
    stdin(
        "stdin_repeat_text",
        "Repeat a line",
        """
        Print a line of text several times.

        Input: the first line holds k (k >= 1); the second line holds the text.
        Output: k lines, each holding the text.
        """,
        r"""
        k = int(input())
        text = input()
        for _ in range(k):
            print(text)
        """,
        public=["3\nhello", "1\nhi there"],
        hidden=["2\na", "5\nxyz", "4\nGo Go", "1\nsingle", "3\n123", "10\n!"],
        wrong=[
            r"""
            k = int(input())
            text = input()
            for _ in range(k - 1):
                print(text)
            """,
            r"""
            k = int(input())
            text = input()
            for _ in range(k + 1):
                print(text)
            """,
        ],
        tags=(*IO, "loops"),
    ),
    stdin(
        "stdin_index_of_maximum",
        "Position of the maximum",
        """
        Read a list of integers and print the position of its largest value. Positions are
        counted from 1; if the largest value appears several times, print the first position.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: the position.
        """,
        r"""
        n = int(input())
        nums = list(map(int, input().split()))
        print(nums.index(max(nums)) + 1)
        """,
        public=["5\n3 9 2 9 1", "3\n-1 -2 -3"],
        hidden=[
            "1\n5",
            "4\n1 2 3 4",
            "4\n4 3 2 1",
            "3\n7 7 7",
            "5\n0 -1 0 -1 1",
            "6\n-5 -5 -5 -4 -4 -6",
        ],
        wrong=[
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print(nums.index(max(nums)))
            """,
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            best = 0
            for i in range(n):
                if nums[i] >= nums[best]:
                    best = i
            print(best + 1)
            """,
        ],
        tags=(*IO, "lists"),
    ),
    stdin(
        "stdin_valid_triangle",
        "Valid triangle",
        """
        Decide whether three positive lengths can be the sides of a triangle: each side must
        be strictly less than the sum of the other two.

        Input: one line with three positive integers a, b and c separated by spaces.
        Output: YES if they form a triangle, otherwise NO.
        """,
        r"""
        a, b, c = map(int, input().split())
        print("YES" if a < b + c and b < a + c and c < a + b else "NO")
        """,
        public=["3 4 5", "1 2 3"],
        hidden=["1 1 1", "1 1 2", "2 2 3", "10 1 1", "5 10 6", "1 10 10", "100 1 100"],
        wrong=[
            r"""
            a, b, c = map(int, input().split())
            print("YES" if a <= b + c and b <= a + c and c <= a + b else "NO")
            """,
            r"""
            a, b, c = map(int, input().split())
            print("YES" if a + b > c else "NO")
            """,
        ],
        tags=(*IO, "conditionals"),
    ),
    stdin(
        "stdin_count_signs",
        "Negatives, zeros, positives",
        """
        Read a list of integers and count the negative numbers, the zeros and the positive
        numbers.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: one line with three counts separated by spaces: negatives, zeros, positives.
        """,
        r"""
        n = int(input())
        nums = list(map(int, input().split()))
        print(sum(x < 0 for x in nums), sum(x == 0 for x in nums), sum(x > 0 for x in nums))
        """,
        public=["5\n-1 0 1 2 -3", "3\n0 0 0"],
        hidden=["1\n5", "1\n-5", "4\n1 2 3 4", "6\n-1 -1 0 1 1 1", "2\n0 -7", "3\n100 -100 0"],
        wrong=[
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print(sum(x < 0 for x in nums), sum(x == 0 for x in nums), sum(x >= 0 for x in nums))
            """,
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print(sum(x > 0 for x in nums), sum(x == 0 for x in nums), sum(x < 0 for x in nums))
            """,
        ],
        tags=(*IO, "counting"),
    ),
    stdin(
        "stdin_is_sorted",
        "Is it sorted",
        """
        Decide whether a list of integers is sorted in non-decreasing order (each number is
        at least the one before it).

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: YES if the list is sorted, otherwise NO.
        """,
        r"""
        n = int(input())
        nums = list(map(int, input().split()))
        print("YES" if all(nums[i] <= nums[i + 1] for i in range(n - 1)) else "NO")
        """,
        public=["5\n1 2 2 3 5", "3\n3 1 2"],
        hidden=[
            "1\n7",
            "2\n2 1",
            "4\n5 5 5 5",
            "4\n1 2 4 3",
            "3\n-3 -2 -1",
            "5\n10 9 8 7 6",
            "3\n1 3 2",
        ],
        wrong=[
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print("YES" if all(nums[i] < nums[i + 1] for i in range(n - 1)) else "NO")
            """,
            r"""
            n = int(input())
            nums = list(map(int, input().split()))
            print("YES" if nums[0] <= nums[-1] else "NO")
            """,
        ],
        tags=(*IO, "lists"),
    ),
    stdin(
        "stdin_second_smallest",
        "Second smallest value",
        """
        Print the second smallest distinct value of a list of integers.

        Input: the first line holds n (n >= 1); the second line holds n integers separated by
        spaces.
        Output: the second smallest distinct value, or NONE if all the values are equal.
        """,
        r"""
        n = int(input())
        values = sorted(set(map(int, input().split())))
        print(values[1] if len(values) > 1 else "NONE")
        """,
        public=["5\n4 1 3 1 2", "3\n5 5 5"],
        hidden=["1\n7", "2\n1 2", "2\n2 1", "4\n-1 -1 -2 -2", "6\n10 9 8 7 6 5", "3\n0 0 1"],
        wrong=[
            r"""
            n = int(input())
            nums = sorted(map(int, input().split()))
            print(nums[1] if n > 1 else "NONE")
            """,
            r"""
            n = int(input())
            values = sorted(set(map(int, input().split())))
            print(values[1])
            """,
        ],
        tags=(*IO, "sorting"),
    ),
    stdin(
        "stdin_sum_of_odds_in_range",
        "Sum of odd numbers in a range",
        """
        Print the sum of the odd integers between a and b, both included.

        Input: one line with two integers a and b (a <= b) separated by a space.
        Output: the sum (0 if there are no odd numbers in the range).
        """,
        r"""
        a, b = map(int, input().split())
        print(sum(x for x in range(a, b + 1) if x % 2 != 0))
        """,
        public=["1 10", "3 3"],
        hidden=["2 2", "-5 5", "0 0", "-3 -1", "1 1000000", "4 9"],
        wrong=[
            r"""
            a, b = map(int, input().split())
            print(sum(x for x in range(a, b) if x % 2 != 0))
            """,
            r"""
            a, b = map(int, input().split())
            print(sum(x for x in range(a, b + 1, 2)))
            """,
        ],
        tags=(*IO, "loops"),
    ),
    stdin(
        "stdin_remove_duplicate_words",
        "Remove repeated words",
        """
        Remove repeated words from a line, keeping the first occurrence of each word. Words are
        compared exactly (upper and lower case differ).

        Input: one line of words separated by single spaces.
        Output: the remaining words, in their original order, separated by single spaces.
        """,
        r"""
        seen = []
        for w in input().split():
            if w not in seen:
                seen.append(w)
        print(" ".join(seen))
        """,
        public=["the cat the dog", "a a a"],
        hidden=[
            "one",
            "x y z",
            "b a b a",
            "hello Hello hello",
            "1 2 1 3 2 4",
            "same same different same",
        ],
        wrong=[
            r"""
            print(" ".join(sorted(set(input().split()))))
            """,
            r"""
            seen = []
            for w in input().split():
                if w.lower() not in [s.lower() for s in seen]:
                    seen.append(w)
            print(" ".join(seen))
            """,
        ],
        tags=(*IO, "strings"),
    ),
    stdin(
        "stdin_collatz_sequence",
        "Collatz sequence",
        """
        Print the Collatz sequence starting at n: from the current number x, the next number
        is x / 2 if x is even and 3 * x + 1 if x is odd; the sequence stops when it reaches 1.

        Input: one line with an integer n >= 1.
        Output: one line with every number of the sequence, from n down to the final 1,
        separated by spaces.
        """,
        r"""
        n = int(input())
        seq = [n]
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            seq.append(n)
        print(" ".join(map(str, seq)))
        """,
        public=["6", "3"],
        hidden=["1", "2", "7", "16", "27", "5"],
        wrong=[
            r"""
            n = int(input())
            seq = []
            while n != 1:
                seq.append(n)
                n = n // 2 if n % 2 == 0 else 3 * n + 1
            print(" ".join(map(str, seq)))
            """,
            r"""
            n = int(input())
            seq = [n]
            while n != 1:
                n = n // 2 if n % 2 == 0 else (3 * n + 1) // 2
                seq.append(n)
            print(" ".join(map(str, seq)))
            """,
        ],
        tags=(*IO, "loops"),
    ),
    stdin(
        "stdin_max_consecutive_ones",
        "Longest run of ones",
        """
        Find the longest block of consecutive 1s in a binary string.

        Input: one line with a non-empty string of 0s and 1s.
        Output: the length of the longest block of consecutive 1s (0 if there is no 1).
        """,
        r"""
        best = cur = 0
        for c in input().strip():
            cur = cur + 1 if c == "1" else 0
            best = max(best, cur)
        print(best)
        """,
        public=["1101110", "000"],
        hidden=["1", "0", "1111", "10101", "0110111011110", "1000000001", "111011"],
        wrong=[
            r"""
            print(input().count("1"))
            """,
            r"""
            best = cur = 0
            for c in input().strip():
                if c == "1":
                    cur += 1
                else:
                    best = max(best, cur)
                    cur = 0
            print(best)
            """,
        ],
        tags=(*IO, "strings", "counting"),
    ),
    stdin(
        "stdin_banknotes",
        "Fewest banknotes",
        """
        Pay an amount using the fewest banknotes. The notes have values 100, 50, 20, 10, 5
        and 1, and there are as many of each as needed. (For these values, always taking the
        largest note that fits gives the fewest notes.)

        Input: one line with an integer amount >= 0.
        Output: the smallest number of notes that add up to the amount.
        """,
        r"""
        amount = int(input())
        count = 0
        for note in (100, 50, 20, 10, 5, 1):
            count += amount // note
            amount %= note
        print(count)
        """,
        public=["186", "7"],
        hidden=["0", "1", "5", "40", "99", "100", "1000000", "68"],
        wrong=[
            r"""
            amount = int(input())
            count = 0
            for note in (100, 50, 10, 5, 1):
                count += amount // note
                amount %= note
            print(count)
            """,
            r"""
            amount = int(input())
            print(amount // 100 + amount % 100)
            """,
        ],
        tags=(*IO, "greedy"),
    ),
    stdin(
        "stdin_abbreviate_long_words",
        "Abbreviate long words",
        """
        Shorten the long words of a line. A word longer than 10 characters is replaced by its
        first letter, the number of letters between the first and the last, and its last
        letter; shorter words stay as they are. For example "localization" (12 letters)
        becomes "l10n".

        Input: one line of lowercase words separated by single spaces.
        Output: the line with the long words shortened, words separated by single spaces.
        """,
        r"""
        words = input().split()
        print(" ".join(w if len(w) <= 10 else f"{w[0]}{len(w) - 2}{w[-1]}" for w in words))
        """,
        public=["internationalization is hard", "short words only"],
        hidden=[
            "a",
            "abcdefghij",
            "abcdefghijk",
            "localization and internationalization",
            "pneumonoultramicroscopicsilicovolcanoconiosis",
            "word abcdefghijkl word",
        ],
        wrong=[
            r"""
            words = input().split()
            print(" ".join(w if len(w) < 10 else f"{w[0]}{len(w) - 2}{w[-1]}" for w in words))
            """,
            r"""
            words = input().split()
            print(" ".join(w if len(w) <= 10 else f"{w[0]}{len(w)}{w[-1]}" for w in words))
            """,
        ],
        tags=(*IO, "strings"),
    ),
    stdin(
        "stdin_leap_years_in_range",
        "Count leap years",
        """
        Count the leap years from year a to year b, both included. A year is a leap year if it
        is divisible by 4, except years divisible by 100, which are leap years only if they
        are also divisible by 400.

        Input: one line with two integers a and b (1 <= a <= b <= 100000).
        Output: the number of leap years.
        """,
        r"""
        a, b = map(int, input().split())
        print(sum(1 for y in range(a, b + 1) if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)))
        """,
        public=["2000 2020", "1900 1903"],
        hidden=["2000 2000", "1999 1999", "1 400", "1896 1904", "2100 2100", "1 100000"],
        wrong=[
            r"""
            a, b = map(int, input().split())
            print(sum(1 for y in range(a, b + 1) if y % 4 == 0))
            """,
            r"""
            a, b = map(int, input().split())
            print(sum(1 for y in range(a, b) if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)))
            """,
        ],
        tags=(*IO, "conditionals", "counting"),
    ),
    stdin(
        "stdin_parentheses_depth",
        "Deepest nesting",
        """
        Find how deeply the parentheses of a balanced expression are nested. For example the
        depth of "(a(b))" is 2, and an expression without parentheses has depth 0.

        Input: one line with an expression of letters, digits, + signs and balanced
        parentheses.
        Output: the greatest nesting depth.
        """,
        r"""
        depth = best = 0
        for c in input():
            if c == "(":
                depth += 1
                best = max(best, depth)
            elif c == ")":
                depth -= 1
        print(best)
        """,
        public=["(a(b))", "(1)+((2))+(((3)))"],
        hidden=["abc", "()", "()()()", "((()))", "(a)+(b(c)+d)", "x+(y+(z+(w)))+v"],
        wrong=[
            r"""
            print(input().count("("))
            """,
            r"""
            depth = best = 0
            for c in input():
                if c == "(":
                    best = max(best, depth)
                    depth += 1
                elif c == ")":
                    depth -= 1
            print(best)
            """,
        ],
        tags=(*IO, "strings", "stack"),
    ),
]
