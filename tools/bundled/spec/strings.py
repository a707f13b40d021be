"""Functional problems on strings: reversing, counting, cleaning, matching, simple DP."""

from __future__ import annotations

from . import functional

TAGS = ("strings",)

PROBLEMS = [
    functional(
        "reverse_string",
        "Reverse a string",
        "def reverse_string(s: str) -> str",
        "Write a function `reverse_string(s)` that returns the string `s` reversed.",
        r"""
        def reverse_string(s):
            return s[::-1]
        """,
        public=["hello", "abc"],
        hidden=["", "a", "racecar", "ab", "Hello, World!", "12345 67"],
        wrong=[
            r"""
            def reverse_string(s):
                result = ""
                for i in range(len(s) - 1, 0, -1):
                    result += s[i]
                return result
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "is_palindrome",
        "Palindrome check",
        "def is_palindrome(s: str) -> bool",
        "Write a function `is_palindrome(s)` that returns `True` if the string `s` reads the "
        "same forwards and backwards, and `False` otherwise. Compare characters exactly "
        "(upper and lower case are different). The empty string is a palindrome.",
        r"""
        def is_palindrome(s):
            return s == s[::-1]
        """,
        public=["racecar", "hello"],
        hidden=["", "a", "ab", "abba", "Abba", "abca", "noon", "aba "],
        wrong=[
            r"""
            def is_palindrome(s):
                for i in range(len(s) // 2):
                    if s[i] != s[-i]:
                        return False
                return True
            """,
            r"""
            def is_palindrome(s):
                s = s.lower().strip()
                return s == s[::-1]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "count_vowels",
        "Count vowels",
        "def count_vowels(s: str) -> int",
        "Write a function `count_vowels(s)` that returns how many vowels the string `s` "
        "contains. The vowels are a, e, i, o and u, in lower or upper case (y is not a vowel).",
        r"""
        def count_vowels(s):
            return sum(1 for c in s if c in "aeiouAEIOU")
        """,
        public=["hello", "Programming"],
        hidden=["", "xyz", "AEIOU", "aaa", "Why? Because!", "y", "Queue"],
        wrong=[
            r"""
            def count_vowels(s):
                return sum(1 for c in s if c in "aeiou")
            """,
            r"""
            def count_vowels(s):
                return sum(1 for c in s.lower() if c in "aeiouy")
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "count_character",
        "Count a character",
        "def count_char(s: str, c: str) -> int",
        "Write a function `count_char(s, c)` that returns how many times the single character "
        "`c` appears in the string `s`. Upper and lower case are different characters.",
        r"""
        def count_char(s, c):
            return sum(1 for x in s if x == c)
        """,
        public=[("banana", "a"), ("hello", "l")],
        hidden=[
            ("", "a"),
            ("aaaa", "a"),
            ("Apple", "a"),
            ("mississippi", "s"),
            ("xyz", "q"),
            ("  a b ", " "),
        ],
        wrong=[
            r"""
            def count_char(s, c):
                return s.lower().count(c.lower())
            """,
            r"""
            def count_char(s, c):
                return sum(1 for i in range(1, len(s)) if s[i] == c)
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "remove_spaces",
        "Remove spaces",
        "def remove_spaces(s: str) -> str",
        "Write a function `remove_spaces(s)` that returns the string `s` with every space "
        "character removed.",
        r"""
        def remove_spaces(s):
            return s.replace(" ", "")
        """,
        public=["a b c", "hello world"],
        hidden=["", "   ", "nospace", " lead", "trail ", "a  b   c"],
        wrong=[
            r"""
            def remove_spaces(s):
                return s.strip()
            """,
            r"""
            def remove_spaces(s):
                return s.replace(" ", "", 1)
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "count_words",
        "Count words",
        "def count_words(s: str) -> int",
        "Write a function `count_words(s)` that returns the number of words in the string "
        "`s`. Words are separated by one or more spaces, and `s` may start or end with spaces "
        "or be empty.",
        r"""
        def count_words(s):
            return len(s.split())
        """,
        public=["hello world", "one"],
        hidden=["", "   ", "  a  b  ", "the quick brown fox", "x", "a b c d e f"],
        wrong=[
            r"""
            def count_words(s):
                return len(s.split(" "))
            """,
            r"""
            def count_words(s):
                return s.count(" ") + 1
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "longest_word",
        "Longest word",
        "def longest_word(s: str) -> str",
        "Write a function `longest_word(s)` that returns the longest word in the non-empty "
        "string `s`, whose words are separated by single spaces. If several words share the "
        "greatest length, return the first of them.",
        r"""
        def longest_word(s):
            best = ""
            for word in s.split(" "):
                if len(word) > len(best):
                    best = word
            return best
        """,
        public=["I love programming", "cat dog"],
        hidden=["a", "hello", "ab cd ef", "short longer longest", "xx yyy zzz", "one three two"],
        wrong=[
            r"""
            def longest_word(s):
                return sorted(s.split(), key=len)[-1]
            """,
            r"""
            def longest_word(s):
                return max(s.split())
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "is_anagram",
        "Anagram check",
        "def is_anagram(a: str, b: str) -> bool",
        "Two strings are anagrams if one can be made by rearranging the letters of the other, "
        "using every letter exactly once. Write a function `is_anagram(a, b)` that returns "
        "`True` if the lowercase strings `a` and `b` are anagrams and `False` otherwise.",
        r"""
        def is_anagram(a, b):
            return sorted(a) == sorted(b)
        """,
        public=[("listen", "silent"), ("hello", "world")],
        hidden=[("", ""), ("a", "a"), ("ab", "a"), ("aab", "abb"), ("abc", "cba"), ("rat", "car")],
        wrong=[
            r"""
            def is_anagram(a, b):
                return set(a) == set(b)
            """,
            r"""
            def is_anagram(a, b):
                return len(a) == len(b)
            """,
        ],
        tags=(*TAGS, "sorting"),
    ),
    functional(
        "most_frequent_character",
        "Most frequent character",
        "def most_frequent_char(s: str) -> str",
        "Write a function `most_frequent_char(s)` that returns the character that appears most "
        "often in the non-empty string `s`. If several characters are tied, return the one "
        "whose first appearance in `s` comes earliest.",
        r"""
        def most_frequent_char(s):
            best = s[0]
            for c in s:
                if s.count(c) > s.count(best):
                    best = c
            return best
        """,
        public=["hello", "aabbb"],
        hidden=["a", "abc", "abab", "bbaa", "mississippi", "zzzyyy x"],
        wrong=[
            r"""
            def most_frequent_char(s):
                return max(sorted(set(s)), key=s.count)
            """,
            r"""
            def most_frequent_char(s):
                best = s[0]
                for c in s:
                    if s.count(c) >= s.count(best):
                        best = c
                return best
            """,
        ],
        tags=(*TAGS, "counting"),
        alternatives=(
            r"""
            from collections import Counter
            def most_frequent_char(s):
                return Counter(s).most_common(1)[0][0]
            """,
        ),
    ),
    functional(
        "remove_duplicate_characters",
        "Remove duplicate characters",
        "def remove_duplicate_chars(s: str) -> str",
        "Write a function `remove_duplicate_chars(s)` that returns `s` with only the first "
        'occurrence of each character kept, in their original order. For example "banana" '
        'becomes "ban".',
        r"""
        def remove_duplicate_chars(s):
            seen = set()
            out = []
            for c in s:
                if c not in seen:
                    seen.add(c)
                    out.append(c)
            return "".join(out)
        """,
        public=["banana", "hello"],
        hidden=["", "a", "aaaa", "abc", "abcabc", "Aa", "mississippi"],
        wrong=[
            r"""
            def remove_duplicate_chars(s):
                return "".join(sorted(set(s)))
            """,
            r"""
            def remove_duplicate_chars(s):
                out = ""
                for c in s:
                    if not out or out[-1] != c:
                        out += c
                return out
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "reverse_words",
        "Reverse the order of words",
        "def reverse_words(s: str) -> str",
        "Write a function `reverse_words(s)` that returns the words of `s` in reverse order, "
        "separated by single spaces. The words of `s` are separated by single spaces; `s` may "
        "be empty.",
        r"""
        def reverse_words(s):
            return " ".join(reversed(s.split()))
        """,
        public=["hello world", "a b c"],
        hidden=["", "one", "the sky is blue", "x y", "Hi there friend", "1 2 3 4 5"],
        wrong=[
            r"""
            def reverse_words(s):
                return s[::-1]
            """,
            r"""
            def reverse_words(s):
                words = s.split()
                return " ".join(words[1:] + words[:1])
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "is_pangram",
        "Pangram check",
        "def is_pangram(s: str) -> bool",
        "A pangram is a sentence that contains every letter of the English alphabet at least "
        "once. Write a function `is_pangram(s)` that returns `True` if `s` is a pangram, "
        "ignoring case, and `False` otherwise.",
        r"""
        def is_pangram(s):
            letters = set(s.lower())
            return all(chr(c) in letters for c in range(ord("a"), ord("z") + 1))
        """,
        public=["The quick brown fox jumps over the lazy dog", "Hello world"],
        hidden=[
            "",
            "abcdefghijklmnopqrstuvwxyz",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "abcdefghijklmnopqrstuvwxy",
            "Pack my box with five dozen liquor jugs",
            "ABCDEFGHIJKLMnopqrstuvwxy 1234",
            "a",
        ],
        wrong=[
            r"""
            def is_pangram(s):
                return all(chr(c) in s for c in range(ord("a"), ord("z") + 1))
            """,
            r"""
            def is_pangram(s):
                return len(set(s.lower())) >= 26
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "caesar_cipher",
        "Caesar cipher",
        "def caesar_shift(s: str, k: int) -> str",
        "Write a function `caesar_shift(s, k)` that shifts every lowercase letter of `s` "
        "forward in the alphabet by `k` places (k >= 0), wrapping around from z to a, and "
        'leaves every other character unchanged. For example shifting "xyz" by 3 gives "abc".',
        r"""
        def caesar_shift(s, k):
            out = []
            for c in s:
                if "a" <= c <= "z":
                    out.append(chr((ord(c) - ord("a") + k) % 26 + ord("a")))
                else:
                    out.append(c)
            return "".join(out)
        """,
        public=[("abc", 1), ("xyz", 3)],
        hidden=[
            ("", 5),
            ("hello world", 0),
            ("zebra", 1),
            ("a.b-c!", 2),
            ("abc", 26),
            ("abc", 27),
            ("hello", 13),
        ],
        wrong=[
            r"""
            def caesar_shift(s, k):
                return "".join(chr(ord(c) + k) if c.isalpha() else c for c in s)
            """,
            r"""
            def caesar_shift(s, k):
                return "".join(chr((ord(c) - 97 + k) % 26 + 97) for c in s)
            """,
        ],
        tags=(*TAGS, "cipher"),
    ),
    functional(
        "count_uppercase",
        "Count uppercase letters",
        "def count_uppercase(s: str) -> int",
        "Write a function `count_uppercase(s)` that returns how many uppercase letters (A to Z) "
        "the string `s` contains.",
        r"""
        def count_uppercase(s):
            return sum(1 for c in s if "A" <= c <= "Z")
        """,
        public=["Hello World", "abc"],
        hidden=["", "ABC", "aBcD", "123!", "HELLO world", "A"],
        wrong=[
            r"""
            def count_uppercase(s):
                return sum(1 for c in s if not c.islower())
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "repeat_string",
        "Repeat a string",
        "def repeat_string(s: str, n: int) -> str",
        "Write a function `repeat_string(s, n)` that returns the string `s` repeated `n` times "
        "(n >= 0), with nothing in between.",
        r"""
        def repeat_string(s, n):
            return s * n
        """,
        public=[("ab", 3), ("x", 1)],
        hidden=[("abc", 0), ("", 5), ("z", 10), ("hi ", 2), ("ok", 4), ("-", 1)],
        wrong=[
            r"""
            def repeat_string(s, n):
                result = s
                for _ in range(1, n):
                    result += s
                return result
            """,
            r"""
            def repeat_string(s, n):
                return " ".join([s] * n)
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "run_length_encoding",
        "Run-length encoding",
        "def compress(s: str) -> str",
        "Write a function `compress(s)` that run-length encodes the string `s`: each maximal "
        "run of equal consecutive characters is written as the character followed by the "
        'length of the run. For example "aaabbc" becomes "a3b2c1" and "aabbaa" becomes '
        '"a2b2a2". The empty string encodes to the empty string.',
        r"""
        def compress(s):
            out = []
            i = 0
            while i < len(s):
                j = i
                while j < len(s) and s[j] == s[i]:
                    j += 1
                out.append(f"{s[i]}{j - i}")
                i = j
            return "".join(out)
        """,
        public=["aaabbc", "abcd"],
        hidden=["", "a", "aaaaaaaaaaaa", "aabbaa", "zzzzy", "AAaa"],
        wrong=[
            r"""
            from collections import Counter
            def compress(s):
                return "".join(f"{c}{n}" for c, n in Counter(s).items())
            """,
            r"""
            def compress(s):
                out = ""
                count = 1
                for i in range(1, len(s)):
                    if s[i] == s[i - 1]:
                        count += 1
                    else:
                        out += s[i - 1] + str(count)
                        count = 1
                return out
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "make_acronym",
        "Acronym",
        "def acronym(s: str) -> str",
        "Write a function `acronym(s)` that returns the first letter of every word of `s`, in "
        "uppercase, joined together. Words are separated by one or more spaces; `s` may start "
        'or end with spaces or be empty. For example "portable network graphics" gives "PNG".',
        r"""
        def acronym(s):
            return "".join(word[0].upper() for word in s.split())
        """,
        public=["portable network graphics", "As Soon As Possible"],
        hidden=["", "hello", "  multiple   spaces here ", "a b c", "Central Processing unit", "x"],
        wrong=[
            r"""
            def acronym(s):
                return "".join(word[0] for word in s.split())
            """,
            r"""
            def acronym(s):
                return "".join(word[0].upper() for word in s.split(" "))
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "is_digit_string",
        "Only digits",
        "def is_digits(s: str) -> bool",
        "Write a function `is_digits(s)` that returns `True` if the string `s` is non-empty and "
        "every character is one of the digits 0 to 9, and `False` otherwise.",
        r"""
        def is_digits(s):
            return len(s) > 0 and all("0" <= c <= "9" for c in s)
        """,
        public=["12345", "12a45"],
        hidden=["", "0", " 1", "-5", "3.14", "0000", "12 "],
        wrong=[
            r"""
            def is_digits(s):
                return all(c.isdigit() for c in s)
            """,
            r"""
            def is_digits(s):
                try:
                    int(s)
                    return True
                except ValueError:
                    return False
            """,
        ],
        tags=(*TAGS, "validation"),
    ),
    functional(
        "count_substring_overlapping",
        "Count occurrences of a substring",
        "def count_occurrences(s: str, sub: str) -> int",
        "Write a function `count_occurrences(s, sub)` that returns how many times the "
        'non-empty string `sub` occurs in `s`, counting overlapping occurrences: "aa" occurs '
        '3 times in "aaaa".',
        r"""
        def count_occurrences(s, sub):
            return sum(1 for i in range(len(s) - len(sub) + 1) if s[i:i + len(sub)] == sub)
        """,
        public=[("banana", "ana"), ("abababa", "aba")],
        hidden=[
            ("", "a"),
            ("aaaa", "aa"),
            ("abc", "abcd"),
            ("abcabc", "abc"),
            ("aaa", "a"),
            ("xyz", "y"),
        ],
        wrong=[
            r"""
            def count_occurrences(s, sub):
                return s.count(sub)
            """,
            r"""
            def count_occurrences(s, sub):
                return sum(1 for i in range(len(s) - len(sub)) if s[i:i + len(sub)] == sub)
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "alternate_case",
        "Alternate case",
        "def alternate_case(s: str) -> str",
        "Write a function `alternate_case(s)` that returns `s` with the characters at even "
        "positions (0, 2, 4, ...) converted to uppercase and those at odd positions converted "
        "to lowercase. Every character counts as a position, including spaces and digits.",
        r"""
        def alternate_case(s):
            return "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(s))
        """,
        public=["hello", "ABCD"],
        hidden=["", "a", "a b", "12ab", "xYz", "Zz"],
        wrong=[
            r"""
            def alternate_case(s):
                return "".join(c.lower() if i % 2 == 0 else c.upper() for i, c in enumerate(s))
            """,
            r"""
            def alternate_case(s):
                out = []
                k = 0
                for c in s:
                    if c.isalpha():
                        out.append(c.upper() if k % 2 == 0 else c.lower())
                        k += 1
                    else:
                        out.append(c)
                return "".join(out)
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "remove_vowels",
        "Remove vowels",
        "def remove_vowels(s: str) -> str",
        "Write a function `remove_vowels(s)` that returns `s` with every vowel (a, e, i, o, u "
        "in lower or upper case) removed.",
        r"""
        def remove_vowels(s):
            return "".join(c for c in s if c.lower() not in "aeiou")
        """,
        public=["hello world", "AEIOUxyz"],
        hidden=["", "aeiou", "rhythm", "Education", "a1e2", "Y"],
        wrong=[
            r"""
            def remove_vowels(s):
                return "".join(c for c in s if c not in "aeiou")
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "balanced_parentheses",
        "Balanced parentheses",
        "def is_balanced(s: str) -> bool",
        "Write a function `is_balanced(s)` that returns `True` if the string `s`, made only of "
        "the characters '(' and ')', is balanced: every '(' is closed by a later ')' and no ')' "
        "appears without a matching '(' before it. The empty string is balanced.",
        r"""
        def is_balanced(s):
            depth = 0
            for c in s:
                depth += 1 if c == "(" else -1
                if depth < 0:
                    return False
            return depth == 0
        """,
        public=["(())", "(()"],
        hidden=["", ")(", "()()", "(((())))", "())(()", "(", ")"],
        wrong=[
            r"""
            def is_balanced(s):
                return s.count("(") == s.count(")")
            """,
            r"""
            def is_balanced(s):
                depth = 0
                for c in s:
                    depth += 1 if c == "(" else -1
                    if depth < 0:
                        return False
                return True
            """,
        ],
        tags=(*TAGS, "stack"),
    ),
    functional(
        "valid_brackets",
        "Valid brackets",
        "def valid_brackets(s: str) -> bool",
        "Write a function `valid_brackets(s)` that returns `True` if the string `s`, made only "
        "of the characters ()[]{}, is valid: every opening bracket is closed by the same kind "
        "of bracket, and brackets close in the correct order. The empty string is valid.",
        r"""
        def valid_brackets(s):
            pairs = {")": "(", "]": "[", "}": "{"}
            stack = []
            for c in s:
                if c in pairs:
                    if not stack or stack.pop() != pairs[c]:
                        return False
                else:
                    stack.append(c)
            return not stack
        """,
        public=["([]{})", "([)]"],
        hidden=["", "{", "}", "{[()()]}", "(((", "()[]{}", "(]", "[{}](", "{[}]"],
        wrong=[
            r"""
            def valid_brackets(s):
                return (s.count("(") == s.count(")") and s.count("[") == s.count("]")
                        and s.count("{") == s.count("}"))
            """,
            r"""
            def valid_brackets(s):
                pairs = {")": "(", "]": "[", "}": "{"}
                stack = []
                for c in s:
                    if c in pairs:
                        if not stack or stack.pop() != pairs[c]:
                            return False
                    else:
                        stack.append(c)
                return True
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "stack"),
    ),
    functional(
        "longest_common_prefix",
        "Longest common prefix",
        "def common_prefix(words: list[str]) -> str",
        "Write a function `common_prefix(words)` that returns the longest string that is a "
        "prefix of every string in the list `words`. Return the empty string if the list is "
        "empty or the words share no prefix.",
        r"""
        def common_prefix(words):
            if not words:
                return ""
            prefix = words[0]
            for w in words[1:]:
                while not w.startswith(prefix):
                    prefix = prefix[:-1]
            return prefix
        """,
        public=[["flower", "flow", "flight"], ["dog", "racecar", "car"]],
        hidden=[
            [],
            ["alone"],
            ["", "abc"],
            ["abc", "abc"],
            ["interview", "internet", "interval"],
            ["ab", "a"],
            ["abcd", "abce", "xbcd"],
        ],
        wrong=[
            r"""
            def common_prefix(words):
                if len(words) < 2:
                    return words[0] if words else ""
                a, b = words[0], words[1]
                i = 0
                while i < min(len(a), len(b)) and a[i] == b[i]:
                    i += 1
                return a[:i]
            """,
            r"""
            def common_prefix(words):
                if not words:
                    return ""
                i = 0
                while all(i < len(w) and w[i] == words[0][i] for w in words):
                    i += 1
                return words[0][:i - 1] if i else ""
            """,
        ],
        difficulty="medium",
        tags=TAGS,
    ),
    functional(
        "reverse_each_word",
        "Reverse each word",
        "def reverse_each_word(s: str) -> str",
        "Write a function `reverse_each_word(s)` that reverses every word of `s` in place, "
        "keeping the words in their original order. Words are separated by single spaces; "
        '`s` may be empty. For example "hello world" becomes "olleh dlrow".',
        r"""
        def reverse_each_word(s):
            return " ".join(w[::-1] for w in s.split(" "))
        """,
        public=["hello world", "abc"],
        hidden=["", "a b", "ab cd ef", "racecar level", "Python is fun", "x"],
        wrong=[
            r"""
            def reverse_each_word(s):
                return s[::-1]
            """,
            r"""
            def reverse_each_word(s):
                return " ".join(w[::-1] for w in reversed(s.split(" ")))
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "hamming_distance",
        "Hamming distance",
        "def hamming_distance(a: str, b: str) -> int",
        "Write a function `hamming_distance(a, b)` that returns the number of positions at "
        "which the two equal-length strings `a` and `b` have different characters.",
        r"""
        def hamming_distance(a, b):
            return sum(1 for x, y in zip(a, b) if x != y)
        """,
        public=[("karolin", "kathrin"), ("abc", "abc")],
        hidden=[
            ("", ""),
            ("a", "b"),
            ("0000", "1111"),
            ("abcd", "abdc"),
            ("Aa", "aA"),
            ("hello", "hallo"),
        ],
        wrong=[
            r"""
            def hamming_distance(a, b):
                return sum(1 for x in a if x not in b)
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "capitalize_words",
        "Capitalize words",
        "def capitalize_words(s: str) -> str",
        "Write a function `capitalize_words(s)` that returns `s` with the first character of "
        "every word in uppercase and the rest of the word in lowercase. Words are separated by "
        "single spaces; any other character (digit, apostrophe) is part of its word. For "
        'example "o\'neil 123abc" becomes "O\'neil 123abc".',
        r"""
        def capitalize_words(s):
            return " ".join(w[:1].upper() + w[1:].lower() for w in s.split(" "))
        """,
        public=["hello world", "pYTHON"],
        hidden=["", "a", "a b c", "ALL CAPS HERE", "123abc def", "o'neil"],
        wrong=[
            r"""
            def capitalize_words(s):
                return s.title()
            """,
            r"""
            def capitalize_words(s):
                return s[:1].upper() + s[1:].lower()
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "first_unique_character",
        "First unique character",
        "def first_unique(s: str) -> int",
        "Write a function `first_unique(s)` that returns the index of the first character of "
        "`s` that appears exactly once in `s`, or -1 if there is none.",
        r"""
        def first_unique(s):
            for i, c in enumerate(s):
                if s.count(c) == 1:
                    return i
            return -1
        """,
        public=["leetcode", "loveleetcode"],
        hidden=["", "aabb", "a", "aab", "abcabd", "zz y"],
        wrong=[
            r"""
            def first_unique(s):
                for i, c in enumerate(s):
                    if s.count(c) == 1:
                        return i
                return 0
            """,
            r"""
            def first_unique(s):
                for i in range(len(s) - 1):
                    if s[i] != s[i + 1]:
                        return i
                return -1
            """,
        ],
        tags=(*TAGS, "counting"),
    ),
    functional(
        "is_subsequence",
        "Subsequence check",
        "def is_subsequence(s: str, t: str) -> bool",
        "Write a function `is_subsequence(s, t)` that returns `True` if `s` is a subsequence "
        "of `t`: `s` can be obtained from `t` by deleting some (or no) characters without "
        "changing the order of the rest.",
        r"""
        def is_subsequence(s, t):
            i = 0
            for c in t:
                if i < len(s) and s[i] == c:
                    i += 1
            return i == len(s)
        """,
        public=[("abc", "ahbgdc"), ("axc", "ahbgdc")],
        hidden=[
            ("", "abc"),
            ("", ""),
            ("a", ""),
            ("abc", "abc"),
            ("acb", "abc"),
            ("aaa", "aa"),
            ("ace", "abcde"),
        ],
        wrong=[
            r"""
            def is_subsequence(s, t):
                return all(c in t for c in s)
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "two pointers"),
    ),
    functional(
        "word_lengths",
        "Word lengths",
        "def word_lengths(s: str) -> list[int]",
        "Write a function `word_lengths(s)` that returns a list with the length of each word "
        "of `s`, in order. Words are separated by one or more spaces; `s` may start or end "
        "with spaces or be empty (then the list is empty).",
        r"""
        def word_lengths(s):
            return [len(w) for w in s.split()]
        """,
        public=["hi there", "a bb ccc"],
        hidden=["", "   ", "word", " leading and trailing ", "x y z", "hello  world"],
        wrong=[
            r"""
            def word_lengths(s):
                return [len(w) for w in s.split(" ")]
            """,
        ],
        tags=TAGS,
    ),
    functional(
        "longest_substring_without_repeats",
        "Longest substring without repeating characters",
        "def longest_unique_substring(s: str) -> int",
        "Write a function `longest_unique_substring(s)` that returns the length of the longest "
        "substring (a contiguous part) of `s` in which no character appears twice.",
        r"""
        def longest_unique_substring(s):
            last = {}
            start = best = 0
            for i, c in enumerate(s):
                if c in last and last[c] >= start:
                    start = last[c] + 1
                last[c] = i
                best = max(best, i - start + 1)
            return best
        """,
        public=["abcabcbb", "bbbbb"],
        hidden=["", "pwwkew", "a", "abcdef", "dvdf", "abba", "tmmzuxt"],
        wrong=[
            r"""
            def longest_unique_substring(s):
                return len(set(s))
            """,
            r"""
            def longest_unique_substring(s):
                last = {}
                start = best = 0
                for i, c in enumerate(s):
                    if c in last:
                        start = last[c] + 1
                    last[c] = i
                    best = max(best, i - start + 1)
                return best
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "sliding window"),
        alternatives=(
            r"""
            def longest_unique_substring(s):
                best = 0
                for i in range(len(s)):
                    for j in range(i, len(s)):
                        if len(set(s[i:j + 1])) == j - i + 1:
                            best = max(best, j - i + 1)
                return best
            """,
        ),
    ),
    functional(
        "longest_palindromic_substring",
        "Longest palindromic substring",
        "def longest_palindrome_length(s: str) -> int",
        "Write a function `longest_palindrome_length(s)` that returns the length of the "
        "longest substring (a contiguous part) of `s` that reads the same forwards and "
        "backwards. The empty string gives 0.",
        r"""
        def longest_palindrome_length(s):
            best = 0
            for center in range(2 * len(s) - 1):
                lo, hi = center // 2, (center + 1) // 2
                while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
                    lo -= 1
                    hi += 1
                best = max(best, hi - lo - 1)
            return best
        """,
        public=["babad", "cbbd"],
        hidden=["", "a", "aaaa", "abc", "forgeeksskeegfor", "abacdfgdcaba"],
        wrong=[
            r"""
            def longest_palindrome_length(s):
                best = 0
                for c in range(len(s)):
                    lo, hi = c, c
                    while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
                        lo -= 1
                        hi += 1
                    best = max(best, hi - lo - 1)
                return best
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "palindromes"),
        alternatives=(
            r"""
            def longest_palindrome_length(s):
                best = 0
                for i in range(len(s)):
                    for j in range(i, len(s)):
                        t = s[i:j + 1]
                        if t == t[::-1]:
                            best = max(best, len(t))
                return best
            """,
        ),
    ),
    functional(
        "edit_distance",
        "Edit distance",
        "def edit_distance(a: str, b: str) -> int",
        "Write a function `edit_distance(a, b)` that returns the minimum number of single-"
        "character insertions, deletions and replacements needed to turn string `a` into "
        "string `b`.",
        r"""
        def edit_distance(a, b):
            prev = list(range(len(b) + 1))
            for i in range(1, len(a) + 1):
                cur = [i] + [0] * len(b)
                for j in range(1, len(b) + 1):
                    if a[i - 1] == b[j - 1]:
                        cur[j] = prev[j - 1]
                    else:
                        cur[j] = 1 + min(prev[j - 1], prev[j], cur[j - 1])
                prev = cur
            return prev[len(b)]
        """,
        public=[("kitten", "sitting"), ("flaw", "lawn")],
        hidden=[
            ("", ""),
            ("", "abc"),
            ("abc", ""),
            ("abc", "abc"),
            ("intention", "execution"),
            ("a", "b"),
            ("horse", "ros"),
        ],
        wrong=[
            r"""
            def edit_distance(a, b):
                return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
            """,
            r"""
            def edit_distance(a, b):
                prev = list(range(len(b) + 1))
                for i in range(1, len(a) + 1):
                    cur = [i] + [0] * len(b)
                    for j in range(1, len(b) + 1):
                        if a[i - 1] == b[j - 1]:
                            cur[j] = prev[j - 1]
                        else:
                            cur[j] = 1 + min(prev[j], cur[j - 1])
                    prev = cur
                return prev[len(b)]
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "dynamic programming"),
    ),
    functional(
        "longest_common_subsequence",
        "Longest common subsequence",
        "def lcs_length(a: str, b: str) -> int",
        "Write a function `lcs_length(a, b)` that returns the length of the longest common "
        "subsequence of the strings `a` and `b`: the longest string that can be obtained from "
        "both by deleting characters without changing the order of the rest.",
        r"""
        def lcs_length(a, b):
            prev = [0] * (len(b) + 1)
            for x in a:
                cur = [0]
                for j, y in enumerate(b):
                    cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
                prev = cur
            return prev[-1]
        """,
        public=[("abcde", "ace"), ("abc", "def")],
        hidden=[
            ("", ""),
            ("abc", "abc"),
            ("a", ""),
            ("AGGTAB", "GXTXAYB"),
            ("abcdgh", "aedfhr"),
            ("bl", "yby"),
            ("abc", "cba"),
        ],
        wrong=[
            r"""
            def lcs_length(a, b):
                return len(set(a) & set(b))
            """,
            r"""
            def lcs_length(a, b):
                count = 0
                pos = 0
                for c in a:
                    k = b.find(c, pos)
                    if k >= 0:
                        count += 1
                        pos = k + 1
                return count
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "dynamic programming"),
    ),
    functional(
        "decode_ways",
        "Decode ways",
        "def num_decodings(s: str) -> int",
        "A message of letters is encoded as digits with A = 1, B = 2, ..., Z = 26. Write a "
        "function `num_decodings(s)` that returns in how many ways the non-empty digit string "
        '`s` can be decoded. A group may not start with 0, so "06" cannot be decoded '
        '(answer 0) while "226" can be read as 2 2 6, 22 6 or 2 26 (answer 3).',
        r"""
        def num_decodings(s):
            prev, cur = 1, 1 if s[0] != "0" else 0
            for i in range(1, len(s)):
                nxt = 0
                if s[i] != "0":
                    nxt += cur
                if s[i - 1] != "0" and int(s[i - 1:i + 1]) <= 26:
                    nxt += prev
                prev, cur = cur, nxt
            return cur
        """,
        public=["12", "226"],
        hidden=["0", "06", "10", "27", "11106", "1111111111", "101", "100"],
        wrong=[
            r"""
            def num_decodings(s):
                prev, cur = 1, 1
                for i in range(1, len(s)):
                    nxt = cur
                    if int(s[i - 1:i + 1]) <= 26:
                        nxt += prev
                    prev, cur = cur, nxt
                return cur
            """,
        ],
        difficulty="medium",
        tags=(*TAGS, "dynamic programming"),
        alternatives=(
            r"""
            def num_decodings(s):
                if not s:
                    return 1
                total = 0
                if s[0] != "0":
                    total += num_decodings(s[1:])
                    if len(s) >= 2 and int(s[:2]) <= 26:
                        total += num_decodings(s[2:])
                return total
            """,
        ),
    ),
]
