"""Callers' answers made comparable: one normalisation for what Twilio heard (SpeechResult), what
was keyed (Digits) and every catalogue word they are matched against, and the spoken variants of
numbers and language names kept in the optional `[prompts.<lang>.answers]` tables.

`[prompts.<lang>.answers]` holds `names` (other ways a caller names that language: "по-русски",
"عربي", and how another locale's recognizer writes it, "russki") and `[....answers.numbers]`, a
table from a digit ("0"-"9") to the other words for it ("اتنين", "ikiye"); the `numbers` word list
stays the one word a prompt would say.
"""
from __future__ import annotations

import re
import unicodedata

# Typographic apostrophes and look-alikes a recognizer or a keyboard writes for "'" (Ukrainian
# uses U+02BC MODIFIER LETTER APOSTROPHE; "п’ять", "пʼять" and "п'ять" are one word).
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u02bc\u2032\u2018\u0060\u00b4\u02b9", "'"))
# Letter variants that Arabic and Persian writers (and recognizers) use for one letter: alef wasla,
# ta marbuta, alef maqsura, Persian yeh and kaf, heh forms; tatweel (a stretching stroke) goes.
# Alef with hamza or madda (أ إ آ) lose their marks with the other combining marks.
_ARABIC_LETTERS = str.maketrans({
    "\u0671": "\u0627",  # ٱ -> ا
    "\u0629": "\u0647",  # ة -> ه
    "\u0649": "\u064a",  # ى -> ي
    "\u06cc": "\u064a",  # ی -> ي
    "\u06a9": "\u0643",  # ک -> ك
    "\u06d5": "\u0647",  # ە (from ۀ) -> ه
    "\u06c1": "\u0647",  # ہ -> ه
    "\u0640": None,      # tatweel
})
# Turkish and Azerbaijani special casing (Unicode SpecialCasing.txt, conditions "tr" and "az"):
# dotted İ lowers to i and dotless I to ı. Python's casefold() is the language-neutral full case
# folding of CaseFolding.txt, which turns İ into "i" + U+0307 COMBINING DOT ABOVE.
_TURKIC = {"tr", "az"}
_TURKIC_UPPER = str.maketrans({"I": "\u0131", "\u0130": "i"})
_NOT_WORD = re.compile(r"[^\w\s']|(?<!\w)'|'(?!\w)")
_DIGIT = re.compile(r"(?<![0-9])[0-9](?![0-9])")


def _ascii_digit(char: str) -> str:
    value = unicodedata.decimal(char, None)
    return str(value) if value is not None else char


def normalise(text: str | None, lang: str | None = None) -> str:
    """`text` as matching compares it: lower-case words of letters, ASCII digits and apostrophes,
    separated by single spaces; "" for None.

    In order: typographic apostrophes become "'"; NFKC (Unicode Standard Annex #15: presentation
    forms, full-width digits); for `lang` "tr" or "az" the Turkish special casing of İ and I
    (SpecialCasing.txt); Unicode full case folding (CaseFolding.txt, `str.casefold`); combining
    marks dropped after canonical decomposition (harakat, hamza and madda on alef, the dot of a
    folded İ, and accents: "Türkçe" and "Turkce" compare equal, as another locale's recognizer
    writes it); format characters (zero-width non-joiner, direction marks) dropped; Arabic letter
    variants unified; every decimal digit (Unicode category Nd: Arabic-Indic ٠-٩, Persian ۰-۹) to
    ASCII; punctuation to spaces.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES))
    if lang in _TURKIC:
        text = text.translate(_TURKIC_UPPER)
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(_ascii_digit(c) for c in text if unicodedata.category(c) not in ("Mn", "Cf"))
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_LETTERS)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def keyed(digits: str | None) -> str | None:
    """The first key a caller pressed, from Twilio's `Digits` ("3", " 3", "*", "#"); None for none.

    Twilio sends ASCII keys; stray spaces are ignored and any other decimal digit is read as its
    ASCII digit, so the key is always one of 0-9, * or #, or None.
    """
    keys = "".join(_ascii_digit(c) for c in (digits or "") if not c.isspace())
    return keys[0] if keys and keys[0] in "0123456789*#" else None


def answer_table(prompts: dict, lang: str) -> dict:
    """The `[prompts.<lang>.answers]` table ({} when the language has none)."""
    table = prompts.get(lang, {}).get("answers", {})
    return table if isinstance(table, dict) else {}


def number_words(prompts: dict, lang: str) -> dict[str, str]:
    """Every spoken form of the digits 0-9 in `lang`, normalised -> the ASCII digit.

    `prompts` is the catalogue's prompt tables ({lang: {key: ...}}): the `numbers` word list first,
    then the variants of `[prompts.<lang>.answers.numbers]`.
    """
    table = prompts.get(lang, {})
    words = {normalise(word, lang): str(digit) for digit, word in enumerate(table.get("numbers", []))}
    for digit, variants in sorted(answer_table(prompts, lang).get("numbers", {}).items()):
        for word in variants:
            words.setdefault(normalise(word, lang), digit)
    words.pop("", None)
    return words


def spoken_digit(spoken: str, words: dict[str, str]) -> str | None:
    """The first digit said in `spoken` (already normalised), as a numeral ("3", "5'e") or a word of
    `words` (from number_words; a word may carry a suffix after an apostrophe: "iki'ye"); None."""
    padded = f" {spoken} "
    phrases = [(padded.find(f" {word} "), digit) for word, digit in words.items() if " " in word]
    found = [(pos, digit) for pos, digit in phrases if pos >= 0]
    for match in _DIGIT.finditer(spoken):
        found.append((match.start(), match.group()))
    position = 0
    for token in spoken.split(" "):
        digit = words.get(token) or words.get(token.split("'")[0])
        if digit is not None:
            found.append((position, digit))
        position += len(token) + 1
    return min(found)[1] if found else None


def table_problems(prompts: dict) -> list[str]:
    """What is malformed in the `answers` tables of `prompts` ({lang: {key: ...}}): "lang.answers..."
    descriptions; [] when every table is a list of `names` and digit -> list of `numbers` words."""
    problems = []
    for lang, table in sorted(prompts.items()):
        answers = table.get("answers", {}) if isinstance(table, dict) else {}
        if not isinstance(answers, dict):
            problems.append(f"{lang}.answers (not a table)")
            continue
        names = answers.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            problems.append(f"{lang}.answers.names (a list of words)")
        numbers = answers.get("numbers", {})
        if not isinstance(numbers, dict) or any(
                digit not in "0123456789" or len(digit) != 1 or not isinstance(words, list)
                or not all(isinstance(w, str) and w.strip() for w in words)
                for digit, words in numbers.items()):
            problems.append(f"{lang}.answers.numbers (digits 0-9, each a list of words)")
    return problems
