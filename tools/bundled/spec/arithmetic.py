"""Functional problems on integers: arithmetic, digits, divisibility."""

from __future__ import annotations

from . import functional

TAGS = ("arithmetic",)

PROBLEMS = [
    functional(
        "add_two_numbers",
        "Add two numbers",
        "def add(a: int, b: int) -> int",
        "Write a function `add(a, b)` that returns the sum of the integers `a` and `b`.",
        r"""
        def add(a, b):
            return a + b
        """,
        public=[(3, 4), (-2, 10)],
        hidden=[
            (0, 0),
            (-5, -7),
            (1000000000, 2000000000),
            (123456789012, 987654321098),
            (-1, 1),
            (7, 0),
        ],
        wrong=[
            r"""
            def add(a, b):
                return abs(a) + abs(b)
            """,
            r"""
            def add(a, b):
                return a - b
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "multiply_two_numbers",
        "Multiply two numbers",
        "def multiply(a: int, b: int) -> int",
        "Write a function `multiply(a, b)` that returns the product of the integers `a` and `b`.",
        r"""
        def multiply(a, b):
            return a * b
        """,
        public=[(3, 4), (-2, 5)],
        hidden=[(0, 99), (-3, -7), (1, 1), (123456, 654321), (10**12, -1), (9, 0), (6, -8)],
        wrong=[
            r"""
            def multiply(a, b):
                result = 0
                for _ in range(b):
                    result += a
                return result
            """,
            r"""
            def multiply(a, b):
                return a + b
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "is_even",
        "Even number check",
        "def is_even(n: int) -> bool",
        "Write a function `is_even(n)` that returns `True` if the integer `n` is even and "
        "`False` otherwise. `n` may be zero or negative.",
        r"""
        def is_even(n):
            return n % 2 == 0
        """,
        public=[4, 7],
        hidden=[0, -3, -8, 1, 10**15, 10**15 + 1],
        wrong=[
            r"""
            def is_even(n):
                return n > 0 and n % 2 == 0
            """,
            r"""
            def is_even(n):
                return n % 2 == 1
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "sign_of_number",
        "Sign of a number",
        "def sign(n: int) -> int",
        "Write a function `sign(n)` that returns `1` if the integer `n` is positive, `-1` if "
        "it is negative, and `0` if it is zero.",
        r"""
        def sign(n):
            if n > 0:
                return 1
            if n < 0:
                return -1
            return 0
        """,
        public=[5, -3],
        hidden=[0, -1, 1, 10**12, -(10**12), 42],
        wrong=[
            r"""
            def sign(n):
                return 1 if n > 0 else -1
            """,
            r"""
            def sign(n):
                return 1 if n >= 0 else -1
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "max_of_three",
        "Largest of three numbers",
        "def max_of_three(a: int, b: int, c: int) -> int",
        "Write a function `max_of_three(a, b, c)` that returns the largest of the three "
        "integers `a`, `b` and `c`.",
        r"""
        def max_of_three(a, b, c):
            best = a
            if b > best:
                best = b
            if c > best:
                best = c
            return best
        """,
        public=[(1, 5, 3), (-1, -5, -3)],
        hidden=[(7, 7, 7), (0, -1, -2), (-10, 0, 10), (3, 2, 3), (100, 200, 150), (5, 9, 9)],
        wrong=[
            r"""
            def max_of_three(a, b, c):
                return max(a, b)
            """,
            r"""
            def max_of_three(a, b, c):
                return sorted([a, b, c])[1]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "clamp_value",
        "Clamp a value",
        "def clamp(x: int, low: int, high: int) -> int",
        "Write a function `clamp(x, low, high)` that returns `x` limited to the range from "
        "`low` to `high` (inclusive): `low` if `x` is smaller than `low`, `high` if `x` is "
        "larger than `high`, and `x` otherwise. You may assume `low <= high`.",
        r"""
        def clamp(x, low, high):
            if x < low:
                return low
            if x > high:
                return high
            return x
        """,
        public=[(5, 1, 10), (-3, 0, 10)],
        hidden=[(15, 0, 10), (0, 0, 0), (10, 0, 10), (-100, -50, -20), (7, 7, 9), (3, -5, 2)],
        wrong=[
            r"""
            def clamp(x, low, high):
                return max(x, low)
            """,
            r"""
            def clamp(x, low, high):
                return min(x, high)
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "factorial",
        "Factorial",
        "def factorial(n: int) -> int",
        "Write a function `factorial(n)` that returns n! = 1 * 2 * ... * n for an integer "
        "`n >= 0`. By definition 0! = 1.",
        r"""
        def factorial(n):
            result = 1
            for i in range(2, n + 1):
                result *= i
            return result
        """,
        public=[5, 3],
        hidden=[0, 1, 2, 10, 20, 25],
        wrong=[
            r"""
            def factorial(n):
                result = 1
                for i in range(1, n):
                    result *= i
                return result
            """,
            r"""
            def factorial(n):
                if n <= 1:
                    return n
                return n * factorial(n - 1)
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "fibonacci_number",
        "Fibonacci number",
        "def fibonacci(n: int) -> int",
        "The Fibonacci numbers are F(0) = 0, F(1) = 1 and F(n) = F(n-1) + F(n-2). Write a "
        "function `fibonacci(n)` that returns F(n) for an integer `n >= 0`.",
        r"""
        def fibonacci(n):
            a, b = 0, 1
            for _ in range(n):
                a, b = b, a + b
            return a
        """,
        public=[6, 10],
        hidden=[0, 1, 2, 20, 50, 90],
        wrong=[
            r"""
            def fibonacci(n):
                a, b = 1, 1
                for _ in range(n):
                    a, b = b, a + b
                return a
            """,
            r"""
            def fibonacci(n):
                a, b = 0, 1
                for _ in range(n - 1):
                    a, b = b, a + b
                return a
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "sum_one_to_n",
        "Sum from 1 to n",
        "def sum_to_n(n: int) -> int",
        "Write a function `sum_to_n(n)` that returns 1 + 2 + ... + n for an integer `n >= 0` "
        "(the sum is 0 when `n` is 0).",
        r"""
        def sum_to_n(n):
            return n * (n + 1) // 2
        """,
        public=[4, 10],
        hidden=[0, 1, 2, 7, 100, 1000000],
        wrong=[
            r"""
            def sum_to_n(n):
                return sum(range(1, n))
            """,
            r"""
            def sum_to_n(n):
                return n * (n - 1) // 2
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "sum_of_digits",
        "Sum of digits",
        "def sum_of_digits(n: int) -> int",
        "Write a function `sum_of_digits(n)` that returns the sum of the decimal digits of the "
        "integer `n >= 0`.",
        r"""
        def sum_of_digits(n):
            return sum(int(d) for d in str(n))
        """,
        public=[123, 9045],
        hidden=[0, 7, 10, 99999, 1000000000, 987654321],
        wrong=[
            r"""
            def sum_of_digits(n):
                total = 0
                while n > 9:
                    total += n % 10
                    n //= 10
                return total
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "count_digits",
        "Count the digits",
        "def count_digits(n: int) -> int",
        "Write a function `count_digits(n)` that returns how many decimal digits the integer "
        "`n >= 0` has. The number 0 has one digit.",
        r"""
        def count_digits(n):
            return len(str(n))
        """,
        public=[12345, 7],
        hidden=[0, 10, 100, 999, 10**18, 1],
        wrong=[
            r"""
            def count_digits(n):
                count = 0
                while n > 0:
                    count += 1
                    n //= 10
                return count
            """,
            r"""
            def count_digits(n):
                count = 1
                while n > 10:
                    count += 1
                    n //= 10
                return count
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "reverse_number",
        "Reverse the digits of a number",
        "def reverse_number(n: int) -> int",
        "Write a function `reverse_number(n)` that returns the integer whose decimal digits "
        "are those of `n >= 0` in reverse order. Leading zeros of the result are dropped, so "
        "`reverse_number(4500)` is `54`.",
        r"""
        def reverse_number(n):
            return int(str(n)[::-1])
        """,
        public=[123, 4500],
        hidden=[0, 7, 10, 1001, 123456789, 1000000],
        wrong=[
            r"""
            def reverse_number(n):
                return str(n)[::-1]
            """,
            r"""
            def reverse_number(n):
                rev = 0
                while n > 9:
                    rev = rev * 10 + n % 10
                    n //= 10
                return rev
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "is_prime",
        "Prime number check",
        "def is_prime(n: int) -> bool",
        "Write a function `is_prime(n)` that returns `True` if the integer `n >= 0` is a prime "
        "number and `False` otherwise. 0 and 1 are not prime.",
        r"""
        def is_prime(n):
            if n < 2:
                return False
            d = 2
            while d * d <= n:
                if n % d == 0:
                    return False
                d += 1
            return True
        """,
        public=[7, 10],
        hidden=[0, 1, 2, 4, 49, 97, 91, 7919, 104729],
        wrong=[
            r"""
            def is_prime(n):
                for i in range(2, n):
                    if n % i == 0:
                        return False
                return True
            """,
            r"""
            def is_prime(n):
                if n < 2:
                    return False
                for i in range(2, int(n ** 0.5)):
                    if n % i == 0:
                        return False
                return True
            """,
        ],
        tags=(*TAGS, "primes"),
    ),
    functional(
        "greatest_common_divisor",
        "Greatest common divisor",
        "def gcd(a: int, b: int) -> int",
        "Write a function `gcd(a, b)` that returns the greatest common divisor of the integers "
        "`a >= 0` and `b >= 0` (they are never both zero). Note that gcd(a, 0) = a.",
        r"""
        def gcd(a, b):
            while b:
                a, b = b, a % b
            return a
        """,
        public=[(12, 18), (7, 5)],
        hidden=[(0, 5), (9, 0), (100, 10), (17, 17), (1071, 462), (2**40, 3 * 2**20)],
        wrong=[
            r"""
            def gcd(a, b):
                for d in range(min(a, b), 0, -1):
                    if a % d == 0 and b % d == 0:
                        return d
                return 1
            """,
            r"""
            def gcd(a, b):
                return min(a, b)
            """,
        ],
        tags=(*TAGS, "divisibility"),
    ),
    functional(
        "least_common_multiple",
        "Least common multiple",
        "def lcm(a: int, b: int) -> int",
        "Write a function `lcm(a, b)` that returns the least common multiple of the positive "
        "integers `a` and `b`: the smallest positive integer divisible by both.",
        r"""
        def lcm(a, b):
            x, y = a, b
            while y:
                x, y = y, x % y
            return a // x * b
        """,
        public=[(4, 6), (3, 5)],
        hidden=[(1, 1), (7, 7), (12, 18), (1, 99), (21, 6), (100000, 99999)],
        wrong=[
            r"""
            def lcm(a, b):
                return a * b
            """,
            r"""
            def lcm(a, b):
                return max(a, b)
            """,
        ],
        tags=(*TAGS, "divisibility"),
    ),
    functional(
        "integer_power",
        "Integer power",
        "def power(base: int, exp: int) -> int",
        "Write a function `power(base, exp)` that returns `base` raised to the power `exp`, "
        "for an integer `base` and an integer `exp >= 0`. Any number to the power 0 is 1 "
        "(including 0 to the power 0).",
        r"""
        def power(base, exp):
            result = 1
            for _ in range(exp):
                result *= base
            return result
        """,
        public=[(2, 10), (3, 3)],
        hidden=[(5, 0), (0, 0), (0, 5), (-2, 3), (-2, 4), (10, 18), (1, 1000)],
        wrong=[
            r"""
            def power(base, exp):
                result = base
                for _ in range(exp):
                    result *= base
                return result
            """,
            r"""
            def power(base, exp):
                result = 1
                for _ in range(1, exp):
                    result *= base
                return result
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "is_leap_year",
        "Leap year",
        "def is_leap_year(year: int) -> bool",
        "Write a function `is_leap_year(year)` that returns `True` if `year` is a leap year in "
        "the Gregorian calendar and `False` otherwise. A year is a leap year if it is divisible "
        "by 4, except years divisible by 100, which are leap years only if they are also "
        "divisible by 400.",
        r"""
        def is_leap_year(year):
            return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        """,
        public=[2024, 2023],
        hidden=[1900, 2000, 2100, 1600, 4, 1, 2400],
        wrong=[
            r"""
            def is_leap_year(year):
                return year % 4 == 0
            """,
            r"""
            def is_leap_year(year):
                return year % 4 == 0 and year % 100 != 0
            """,
        ],
        tags=(*TAGS, "conditionals"),
    ),
    functional(
        "digital_root",
        "Digital root",
        "def digital_root(n: int) -> int",
        "The digital root of an integer `n >= 0` is found by summing its digits, then summing "
        "the digits of that sum, and so on until a single digit remains. For example "
        "38 -> 3 + 8 = 11 -> 1 + 1 = 2. Write a function `digital_root(n)` that returns it.",
        r"""
        def digital_root(n):
            while n >= 10:
                n = sum(int(d) for d in str(n))
            return n
        """,
        public=[38, 12345],
        hidden=[0, 9, 10, 18, 7, 99999999],
        wrong=[
            r"""
            def digital_root(n):
                return sum(int(d) for d in str(n))
            """,
            r"""
            def digital_root(n):
                return n % 9
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "count_divisors",
        "Count divisors",
        "def count_divisors(n: int) -> int",
        "Write a function `count_divisors(n)` that returns how many positive integers divide "
        "the integer `n >= 1` exactly (including 1 and `n` itself).",
        r"""
        def count_divisors(n):
            count = 0
            d = 1
            while d * d <= n:
                if n % d == 0:
                    count += 1 if d * d == n else 2
                d += 1
            return count
        """,
        public=[12, 7],
        hidden=[1, 2, 36, 100, 97, 720720],
        wrong=[
            r"""
            def count_divisors(n):
                return sum(1 for d in range(1, n) if n % d == 0)
            """,
            r"""
            def count_divisors(n):
                count = 0
                d = 1
                while d * d <= n:
                    if n % d == 0:
                        count += 2
                    d += 1
                return count
            """,
        ],
        tags=(*TAGS, "divisibility"),
        alternatives=(
            r"""
            def count_divisors(n):
                return sum(1 for d in range(1, n + 1) if n % d == 0)
            """,
        ),
    ),
    functional(
        "sum_of_squares",
        "Sum of squares",
        "def sum_of_squares(n: int) -> int",
        "Write a function `sum_of_squares(n)` that returns 1*1 + 2*2 + ... + n*n for an "
        "integer `n >= 0` (0 when `n` is 0).",
        r"""
        def sum_of_squares(n):
            return sum(i * i for i in range(1, n + 1))
        """,
        public=[3, 5],
        hidden=[0, 1, 2, 10, 100, 10000],
        wrong=[
            r"""
            def sum_of_squares(n):
                return sum(i * i for i in range(n))
            """,
            r"""
            def sum_of_squares(n):
                return sum(range(1, n + 1)) ** 2
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "is_perfect_square",
        "Perfect square check",
        "def is_perfect_square(n: int) -> bool",
        "Write a function `is_perfect_square(n)` that returns `True` if the integer `n` is the "
        "square of an integer (0, 1, 4, 9, ...) and `False` otherwise. `n` may be negative.",
        r"""
        def is_perfect_square(n):
            if n < 0:
                return False
            lo, hi = 0, n + 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if mid * mid <= n:
                    lo = mid
                else:
                    hi = mid
            return lo * lo == n
        """,
        public=[16, 15],
        hidden=[0, 1, 2, -4, 10**12, 10**12 + 1, 99980001, 99980000],
        wrong=[
            r"""
            def is_perfect_square(n):
                r = 1
                while r * r < n:
                    r += 1
                return r * r == n
            """,
            r"""
            def is_perfect_square(n):
                return n % 4 == 0 or n % 4 == 1
            """,
        ],
        tags=(*TAGS,),
        alternatives=(
            r"""
            import math
            def is_perfect_square(n):
                return n >= 0 and math.isqrt(n) ** 2 == n
            """,
        ),
    ),
    functional(
        "is_power_of_two",
        "Power of two check",
        "def is_power_of_two(n: int) -> bool",
        "Write a function `is_power_of_two(n)` that returns `True` if the integer `n` equals "
        "2**k for some integer `k >= 0` (1, 2, 4, 8, ...) and `False` otherwise. `n` may be "
        "zero or negative.",
        r"""
        def is_power_of_two(n):
            if n < 1:
                return False
            while n % 2 == 0:
                n //= 2
            return n == 1
        """,
        public=[8, 6],
        hidden=[1, 0, -8, 1024, 1023, 2**60, 3],
        wrong=[
            r"""
            def is_power_of_two(n):
                return n & (n - 1) == 0
            """,
            r"""
            def is_power_of_two(n):
                return n % 2 == 0
            """,
        ],
        tags=(*TAGS, "bits"),
    ),
    functional(
        "collatz_steps",
        "Collatz steps",
        "def collatz_steps(n: int) -> int",
        "Starting from an integer `n >= 1`, repeat: if the number is even, halve it; if it is "
        "odd, replace it with 3 * number + 1. Write a function `collatz_steps(n)` that returns "
        "how many steps it takes to reach 1 (0 if `n` is already 1).",
        r"""
        def collatz_steps(n):
            steps = 0
            while n != 1:
                n = n // 2 if n % 2 == 0 else 3 * n + 1
                steps += 1
            return steps
        """,
        public=[6, 7],
        hidden=[1, 2, 3, 27, 97, 1000000],
        wrong=[
            r"""
            def collatz_steps(n):
                steps = 1
                while n != 1:
                    n = n // 2 if n % 2 == 0 else 3 * n + 1
                    steps += 1
                return steps
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "integer_square_root",
        "Integer square root",
        "def integer_sqrt(n: int) -> int",
        "Write a function `integer_sqrt(n)` that returns the largest integer `r` with "
        "`r * r <= n`, for an integer `n >= 0`. Be exact even for very large `n`.",
        r"""
        def integer_sqrt(n):
            lo, hi = 0, n + 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if mid * mid <= n:
                    lo = mid
                else:
                    hi = mid
            return lo
        """,
        public=[17, 81],
        hidden=[0, 1, 2, 99, 15, 10**18, 10**18 - 1],
        wrong=[
            r"""
            def integer_sqrt(n):
                return int(n ** 0.5)
            """,
            r"""
            def integer_sqrt(n):
                return round(n ** 0.5)
            """,
        ],
        tags=(*TAGS, "binary search"),
        alternatives=(
            r"""
            import math
            def integer_sqrt(n):
                return math.isqrt(n)
            """,
        ),
    ),
    functional(
        "triangle_type",
        "Classify a triangle",
        "def triangle_type(a: int, b: int, c: int) -> str",
        """
        Write a function `triangle_type(a, b, c)` that classifies a triangle from its three
        positive integer side lengths. Return "invalid" if the sides cannot form a triangle
        (some side is greater than or equal to the sum of the other two), otherwise
        "equilateral" if all three sides are equal, "isosceles" if exactly two are equal, and
        "scalene" if all are different.
        """,
        r"""
        def triangle_type(a, b, c):
            x, y, z = sorted([a, b, c])
            if x + y <= z:
                return "invalid"
            if a == b == c:
                return "equilateral"
            if a == b or b == c or a == c:
                return "isosceles"
            return "scalene"
        """,
        public=[(3, 3, 3), (3, 4, 5)],
        hidden=[(2, 2, 3), (1, 2, 3), (1, 1, 5), (5, 3, 5), (10, 11, 12), (7, 7, 14), (2, 3, 2)],
        wrong=[
            r"""
            def triangle_type(a, b, c):
                if a == b == c:
                    return "equilateral"
                if a == b or b == c:
                    return "isosceles"
                return "scalene"
            """,
            r"""
            def triangle_type(a, b, c):
                if a + b < c or a + c < b or b + c < a:
                    return "invalid"
                if a == b == c:
                    return "equilateral"
                if a == b or b == c or a == c:
                    return "isosceles"
                return "scalene"
            """,
        ],
        tags=(*TAGS, "conditionals"),
    ),
    functional(
        "last_digit",
        "Last digit",
        "def last_digit(n: int) -> int",
        "Write a function `last_digit(n)` that returns the last decimal digit of the integer "
        "`n`. For a negative number, return the last digit of its absolute value (so the "
        "answer is always between 0 and 9).",
        r"""
        def last_digit(n):
            return abs(n) % 10
        """,
        public=[1234, -57],
        hidden=[0, 9, -1, 10, 10**20 + 3, -100, -9],
        wrong=[
            r"""
            def last_digit(n):
                return n % 10
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "to_binary",
        "Binary representation",
        "def to_binary(n: int) -> str",
        "Write a function `to_binary(n)` that returns the binary representation of the integer "
        '`n >= 0` as a string of 0s and 1s, without leading zeros and without a "0b" prefix. '
        'The binary representation of 0 is "0".',
        r"""
        def to_binary(n):
            if n == 0:
                return "0"
            digits = []
            while n > 0:
                digits.append(str(n % 2))
                n //= 2
            return "".join(reversed(digits))
        """,
        public=[5, 8],
        hidden=[0, 1, 2, 255, 1024, 2**40 + 1],
        wrong=[
            r"""
            def to_binary(n):
                return bin(n)
            """,
            r"""
            def to_binary(n):
                s = ""
                while n > 0:
                    s = str(n % 2) + s
                    n //= 2
                return s
            """,
        ],
        tags=(*TAGS, "bits"),
    ),
    functional(
        "count_set_bits",
        "Count the 1 bits",
        "def count_set_bits(n: int) -> int",
        "Write a function `count_set_bits(n)` that returns how many 1s appear in the binary "
        "representation of the integer `n >= 0`.",
        r"""
        def count_set_bits(n):
            count = 0
            while n:
                count += n & 1
                n >>= 1
            return count
        """,
        public=[5, 255],
        hidden=[0, 1, 1024, 2**50 - 1, 7, 6],
        wrong=[
            r"""
            def count_set_bits(n):
                return len(bin(n)) - 2
            """,
        ],
        tags=(*TAGS, "bits"),
    ),
    functional(
        "is_armstrong_number",
        "Armstrong number",
        "def is_armstrong(n: int) -> bool",
        "An Armstrong number is a number equal to the sum of its digits each raised to the "
        "power of the number of digits; for example 153 = 1**3 + 5**3 + 3**3. Write a function "
        "`is_armstrong(n)` that returns `True` if the integer `n >= 0` is an Armstrong number "
        "and `False` otherwise.",
        r"""
        def is_armstrong(n):
            digits = str(n)
            k = len(digits)
            return sum(int(d) ** k for d in digits) == n
        """,
        public=[153, 154],
        hidden=[0, 9, 10, 370, 9474, 9475, 100],
        wrong=[
            r"""
            def is_armstrong(n):
                return sum(int(d) ** 3 for d in str(n)) == n
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "sum_multiples_of_3_or_5",
        "Sum of multiples of 3 or 5",
        "def sum_multiples(n: int) -> int",
        "Write a function `sum_multiples(n)` that returns the sum of all positive integers "
        "less than `n` that are divisible by 3 or by 5 (or both). `n >= 0`.",
        r"""
        def sum_multiples(n):
            return sum(i for i in range(1, n) if i % 3 == 0 or i % 5 == 0)
        """,
        public=[10, 20],
        hidden=[0, 1, 3, 4, 6, 16, 1000],
        wrong=[
            r"""
            def sum_multiples(n):
                return sum(i for i in range(1, n + 1) if i % 3 == 0 or i % 5 == 0)
            """,
            r"""
            def sum_multiples(n):
                return sum(range(3, n, 3)) + sum(range(5, n, 5))
            """,
        ],
        tags=(*TAGS, "loops"),
    ),
    functional(
        "minutes_to_clock",
        "Minutes to hours and minutes",
        "def format_minutes(m: int) -> str",
        "Write a function `format_minutes(m)` that turns a number of minutes `m >= 0` into a "
        'string "H:MM": the whole hours, a colon, and the remaining minutes written with two '
        'digits. For example 135 minutes is "2:15" and 5 minutes is "0:05".',
        r"""
        def format_minutes(m):
            return f"{m // 60}:{m % 60:02d}"
        """,
        public=[135, 60],
        hidden=[0, 59, 61, 1440, 605, 5],
        wrong=[
            r"""
            def format_minutes(m):
                return f"{m // 60}:{m % 60}"
            """,
        ],
        tags=(*TAGS, "formatting"),
    ),
    functional(
        "round_to_ten",
        "Round to the nearest ten",
        "def round_to_ten(n: int) -> int",
        "Write a function `round_to_ten(n)` that rounds the integer `n >= 0` to the nearest "
        "multiple of 10. A number ending in 5 rounds up (25 becomes 30).",
        r"""
        def round_to_ten(n):
            return (n + 5) // 10 * 10
        """,
        public=[23, 27],
        hidden=[25, 0, 5, 4, 100, 995, 15],
        wrong=[
            r"""
            def round_to_ten(n):
                return round(n, -1)
            """,
            r"""
            def round_to_ten(n):
                return n // 10 * 10
            """,
        ],
        tags=(*TAGS,),
    ),
    functional(
        "largest_digit",
        "Largest digit",
        "def largest_digit(n: int) -> int",
        "Write a function `largest_digit(n)` that returns the largest decimal digit of the "
        "integer `n >= 0`.",
        r"""
        def largest_digit(n):
            return max(int(d) for d in str(n))
        """,
        public=[3829, 1023],
        hidden=[0, 5, 111, 90, 123456780, 4444],
        wrong=[
            r"""
            def largest_digit(n):
                best = 0
                while n > 9:
                    best = max(best, n % 10)
                    n //= 10
                return best
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "product_of_digits",
        "Product of digits",
        "def product_of_digits(n: int) -> int",
        "Write a function `product_of_digits(n)` that returns the product of the decimal "
        "digits of the integer `n >= 0`. For example 234 gives 2 * 3 * 4 = 24, and 0 gives 0.",
        r"""
        def product_of_digits(n):
            result = 1
            for d in str(n):
                result *= int(d)
            return result
        """,
        public=[234, 111],
        hidden=[0, 7, 10, 999, 123456789, 25],
        wrong=[
            r"""
            def product_of_digits(n):
                result = 1
                while n > 0:
                    result *= n % 10
                    n //= 10
                return result
            """,
        ],
        tags=(*TAGS, "digits"),
    ),
    functional(
        "count_primes",
        "Count primes up to n",
        "def count_primes(n: int) -> int",
        "Write a function `count_primes(n)` that returns how many prime numbers are less than "
        "or equal to the integer `n` (0 <= n <= 100000).",
        r"""
        def count_primes(n):
            if n < 2:
                return 0
            sieve = [True] * (n + 1)
            sieve[0] = sieve[1] = False
            i = 2
            while i * i <= n:
                if sieve[i]:
                    for j in range(i * i, n + 1, i):
                        sieve[j] = False
                i += 1
            return sum(sieve)
        """,
        public=[10, 20],
        hidden=[0, 1, 2, 3, 100, 100000],
        wrong=[
            r"""
            def count_primes(n):
                count = 0
                for k in range(2, n):
                    if all(k % d for d in range(2, int(k ** 0.5) + 1)):
                        count += 1
                return count
            """,
            r"""
            def count_primes(n):
                count = 0
                for k in range(1, n + 1):
                    if all(k % d for d in range(2, int(k ** 0.5) + 1)):
                        count += 1
                return count
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "primes", "sieve"),
        alternatives=(
            r"""
            def count_primes(n):
                return sum(
                    1 for k in range(2, n + 1) if all(k % d for d in range(2, int(k ** 0.5) + 1))
                )
            """,
        ),
    ),
    functional(
        "trailing_zeros_of_factorial",
        "Trailing zeros of n!",
        "def trailing_zeros(n: int) -> int",
        "Write a function `trailing_zeros(n)` that returns how many zeros the decimal number "
        "n! (n factorial) ends with, for an integer 0 <= n <= 10**9. Do not compute n! itself: "
        "count the factors of 5.",
        r"""
        def trailing_zeros(n):
            count = 0
            p = 5
            while p <= n:
                count += n // p
                p *= 5
            return count
        """,
        public=[5, 25],
        hidden=[0, 4, 10, 100, 1000, 10**9],
        wrong=[
            r"""
            def trailing_zeros(n):
                return n // 5
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "math"),
        alternatives=(
            r"""
            def trailing_zeros(n):
                if n > 5000:
                    count, p = 0, 5
                    while p <= n:
                        count += n // p
                        p *= 5
                    return count
                f = 1
                for i in range(2, n + 1):
                    f *= i
                s = str(f)
                return len(s) - len(s.rstrip("0"))
            """,
        ),
    ),
    functional(
        "nth_prime",
        "The n-th prime",
        "def nth_prime(n: int) -> int",
        "Write a function `nth_prime(n)` that returns the n-th prime number, counting from "
        "`nth_prime(1) == 2`, for 1 <= n <= 2000.",
        r"""
        def nth_prime(n):
            primes = []
            k = 2
            while len(primes) < n:
                if all(k % p for p in primes if p * p <= k):
                    primes.append(k)
                k += 1
            return primes[-1]
        """,
        public=[1, 6],
        hidden=[2, 3, 4, 10, 100, 1000, 2000],
        wrong=[
            r"""
            def nth_prime(n):
                count = 0
                k = 1
                while True:
                    if all(k % d for d in range(2, int(k ** 0.5) + 1)):
                        count += 1
                        if count == n:
                            return k
                    k += 1
            """,
            r"""
            def nth_prime(n):
                count = 0
                k = 2
                while count <= n:
                    if all(k % d for d in range(2, int(k ** 0.5) + 1)):
                        count += 1
                    k += 1
                return k - 1
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "primes"),
    ),
]
