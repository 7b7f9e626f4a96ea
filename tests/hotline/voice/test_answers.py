"""hotline.voice.answers: the normalisation every spoken or keyed answer goes through, one rule a test,
on strings as Twilio's speech recognition returns them (SpeechResult) or keys as it sends them."""
from __future__ import annotations

import copy

import pytest

from hotline.catalogue import Catalogue, CatalogueError, load_raw
from hotline.voice import answers

PACKAGED = load_raw()
PROMPTS = PACKAGED["prompts"]


@pytest.mark.parametrize("said, lang, expected", [
    ("İki.", "tr", "iki"),             # Turkish special casing: İ lowers to i
    ("İki.", None, "iki"),             # full case folding gives i + U+0307, whose dot is dropped
    ("İngilizce", "en", "ingilizce"),
    ("IRAK", "tr", "ırak"),            # Turkish: dotless I lowers to ı, kept apart from i
    ("IRAK", "en", "irak"),
    ("ПЯТЬ", "ru", "пять"),
    ("Straße", "en", "strasse"),       # full case folding, not lower()
])
def test_case_folding_keeps_turkish_dotted_and_dotless_i(said, lang, expected):
    assert answers.normalise(said, lang) == expected


@pytest.mark.parametrize("said, expected", [
    ("٢", "2"), ("٠١٢٣٤٥٦٧٨٩", "0123456789"),       # Arabic-Indic
    ("۴", "4"), ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),       # Persian (extended Arabic-Indic)
    ("الرقم ٣", "الرقم 3"), ("３", "3"),              # full-width, from NFKC
])
def test_arabic_indic_and_persian_digits_become_ascii(said, expected):
    assert answers.normalise(said, "ar") == expected


@pytest.mark.parametrize("variant, plain", [
    ("أربعة", "اربعه"), ("إثنين", "اثنين"), ("آب", "اب"), ("ٱلعربية", "العربيه"),   # alef forms
    ("خمسة", "خمسه"),                                                             # ta marbuta
    ("إلى", "الي"),                                                               # alef maqsura
    ("یک", "يك"), ("فارسی", "فارسي"),                                             # Persian ye, kaf
    ("ثَلَاثَة", "ثلاثه"), ("ثـلاثة", "ثلاثه"),                                         # harakat, tatweel
    ("سه\u200cشنبه", "سهشنبه"),                                                    # zero-width non-joiner
])
def test_arabic_letter_variants_compare_equal(variant, plain):
    assert answers.normalise(variant, "ar") == answers.normalise(plain, "ar") == plain


@pytest.mark.parametrize("said", ["п’ять", "пʼять", "п′ять", "п‘ять", "П'ять."])
def test_typographic_apostrophes_become_one(said):
    assert answers.normalise(said, "uk") == "п'ять"


def test_quotes_and_punctuation_are_not_words():
    assert answers.normalise("'Russian', please!", "en") == "russian please"
    assert answers.normalise("5'e basıyorum.", "tr") == "5'e basıyorum"
    assert answers.normalise(None) == answers.normalise("  ¿? ") == ""


@pytest.mark.parametrize("digits, key", [
    ("3", "3"), (" 3 ", "3"), ("38", "3"), ("*", "*"), ("#", "#"), ("٣", "3"), ("", None), (None, None),
    ("  ", None), ("a", None),
])
def test_keyed_is_the_first_key(digits, key):
    assert answers.keyed(digits) == key


@pytest.mark.parametrize("lang, said, digit", [
    ("bg", "едно", "1"), ("bg", "един", "1"), ("bg", "две", "2"), ("bg", "два", "2"),
    ("en", "three", "3"), ("en", "oh", "0"),
    ("ru", "пять", "5"), ("ru", "двойку", "2"), ("ru", "четвёрка", "4"), ("ru", "четверка", "4"),
    ("uk", "п'ять", "5"), ("uk", "пять", "5"), ("uk", "дві", "2"), ("uk", "дев'ять", "9"),
    ("ar", "اثنان", "2"), ("ar", "اثنين", "2"), ("ar", "اتنين", "2"), ("ar", "ثلاثه", "3"),
    ("ar", "تلاته", "3"), ("ar", "اربعه", "4"), ("ar", "تمانيه", "8"), ("ar", "صفر", "0"),
    ("fa", "يك", "1"), ("fa", "چهار", "4"), ("fa", "چار", "4"), ("fa", "شيش", "6"), ("fa", "نه", "9"),
    ("tr", "iki", "2"), ("tr", "ikiye", "2"), ("tr", "iki'ye", "2"), ("tr", "uc", "3"), ("tr", "altıya", "6"),
    ("tr", "sıfır", "0"),
])
def test_number_words_of_every_language_with_their_variants(lang, said, digit):
    words = answers.number_words(PROMPTS, lang)
    assert answers.spoken_digit(answers.normalise(said, lang), words) == digit


@pytest.mark.parametrize("lang", sorted(PROMPTS))
def test_every_language_has_ten_number_words_and_no_word_for_two_digits(lang):
    words = answers.number_words(PROMPTS, lang)
    assert set(words.values()) == set("0123456789")
    for digit, variants in answers.answer_table(PROMPTS, lang).get("numbers", {}).items():
        assert all(words[answers.normalise(w, lang)] == digit for w in variants), (lang, digit)


def test_the_first_digit_said_counts_numeral_or_word():
    en = answers.number_words(PROMPTS, "en")
    assert answers.spoken_digit("number 3 please", en) == "3"
    assert answers.spoken_digit("two no three", en) == "2"
    assert answers.spoken_digit("5'e basıyorum", answers.number_words(PROMPTS, "tr")) == "5"
    assert answers.spoken_digit("12 or 13", en) is None
    assert answers.spoken_digit("twelve", en) is None


def test_malformed_answers_tables_stop_the_catalogue():
    raw = copy.deepcopy(PACKAGED)
    raw["prompts"]["ar"]["answers"]["numbers"]["12"] = ["اثنا عشر"]
    raw["prompts"]["tr"]["answers"]["names"] = "Türkçe"
    with pytest.raises(CatalogueError) as error:
        Catalogue(raw)
    assert "ar.answers.numbers" in str(error.value) and "tr.answers.names" in str(error.value)


def test_answers_tables_are_optional():
    raw = copy.deepcopy(PACKAGED)
    del raw["prompts"]["bg"]["answers"]
    catalogue = Catalogue(raw)
    assert answers.number_words(catalogue.raw["prompts"], "bg")["едно"] == "1"
