"""Extraction: numbers in every common form, comparators, distractors, periods, metrics."""

import datetime as dt

import pytest

from immfacts.claims.extract import extract, split_sentences
from immfacts.claims.numbers import find_numbers
from immfacts.claims.when import find_periods

AS_OF = dt.date(2024, 6, 4)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("350,000", 350_000, "count"),
        ("3.5 million", 3_500_000, "count"),
        ("9.5m", 9_500_000, "count"),
        ("77 percent", 0.77, "percent"),
        ("77%", 0.77, "percent"),
        ("77 per cent", 0.77, "percent"),
        ("one in five", 0.2, "percent"),
        ("a third", 1 / 3, "percent"),
        ("two-thirds", 2 / 3, "percent"),
        ("two million", 2_000_000, "count"),
        ("doubled", 2.0, "ratio"),
    ],
)
def test_numbers_in_common_forms(text, value, unit):
    [n] = find_numbers(text)
    assert n.value == pytest.approx(value) and n.unit == unit


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("The memo was issued on April 3, 2022, by the agency.", "date"),
        ("The program cost $1.2 billion last year.", "money"),
        ("A 17-year-old boy crossed near El Paso.", "age"),
        ("The court has 700 immigration judges.", "judges"),
        ("Under Title 42, migrants were expelled.", "legal"),
        ("The rule amended 8 CFR 1003.18 in July.", "legal"),
        ("The survey of 1,500 registered voters was fielded in April.", "sample size"),
    ],
)
def test_distractor_numbers_are_not_claims(sentence, reason):
    skipped = [n.skip for n in find_numbers(sentence) if not n.is_claim_candidate]
    assert reason in skipped
    assert extract(sentence, AS_OF) == []


@pytest.mark.parametrize(
    ("sentence", "comparator"),
    [
        ("More than 350,000 asylum cases were closed in fiscal 2023.", "more_than"),
        ("Nearly 2 million encounters were recorded in fiscal 2022.", "nearly"),
        ("Almost 2.5 million encounters were recorded in fiscal 2023.", "nearly"),
        ("About 600,000 gotaways were reported in fiscal 2022.", "approx"),
        ("At least 140,000 removal orders were issued in fiscal 2023.", "at_least"),
        ("Over 3 million cases are pending in the immigration courts.", "more_than"),
        ("Fewer than 20,000 asylum grants were made in fiscal 2020.", "less_than"),
        ("Judges issued 52,440 removal orders in fiscal 2023.", "exact"),
    ],
)
def test_comparators(sentence, comparator):
    [c] = extract(sentence, AS_OF)
    assert c.comparator == comparator


PERIODS = [
    ("since 2022", [("2022-01-01", "2024-06-04", "calendar"), ("2021-10-01", "2024-06-04", "fiscal")]),
    ("under Biden", [("2021-01-20", "2024-06-04", "exact_dates"), ("2020-10-01", "2024-06-04", "fy_whole"),
                     ("2021-10-01", "2024-06-04", "fy_from_first_full")]),
    ("last year", [("2023-01-01", "2023-12-31", "calendar"), ("2022-10-01", "2023-09-30", "fiscal")]),
    ("in fiscal 2023", [("2022-10-01", "2023-09-30", "fiscal")]),
    ("this year", [("2024-01-01", "2024-06-04", "calendar"), ("2023-10-01", "2024-06-04", "fiscal")]),
    ("in March", [("2024-03-01", "2024-03-31", "month")]),
    ("in July", [("2023-07-01", "2023-07-31", "month")]),
    ("in FY2021-FY2023", [("2020-10-01", "2023-09-30", "fiscal")]),
    ("from January 2021 to March 2024", [("2021-01-01", "2024-03-31", "month")]),
    ("under the previous administration", [("2017-01-20", "2021-01-19", "exact_dates"),
                                           ("2016-10-01", "2020-09-30", "fy_whole"),
                                           ("2017-10-01", "2020-09-30", "fy_from_first_full")]),
]


@pytest.mark.parametrize(("phrase", "readings"), PERIODS)
def test_period_resolution_table(phrase, readings):
    [p] = find_periods(f"Encounters {phrase} were high.", AS_OF)
    got = [(str(r.start), str(r.end), r.label) for r in p.readings]
    assert got == readings


def test_since_2022_records_both_readings_on_the_claim():
    [c] = extract("More than 350,000 asylum cases have been closed since 2022 without a merits decision.", AS_OF)
    assert [r.label for r in c.readings] == ["calendar", "fiscal"]
    assert c.match.metric == "eoir.asylum.closed_without_merits"


@pytest.mark.parametrize(
    ("sentence", "metric"),
    [
        ("The asylum backlog now stands at more than 3.5 million cases.", "eoir.pending_asylum_applications"),
        ("The immigration court backlog topped 3 million cases in fiscal 2023.", "eoir.pending"),
        ("Agents recorded 2.5 million encounters at the southwest border in fiscal 2023.", "cbp.encounters"),
        ("Some 670,000 gotaways evaded agents in fiscal 2023.", "cbp.gotaways"),
        ("The foreign-born population hit 51.6 million in March.", "census.foreign_born"),
        ("Judges granted asylum in 37 percent of cases in fiscal 2021.", "eoir.asylum.grant_rate"),
        ("Under Biden, 77% of asylum applicants were allowed to stay.", "eoir.asylum.allowed_to_stay_rate"),
        ("Judges issued 52,440 removal orders in fiscal 2023.", "eoir.removal_orders"),
        ("In fiscal 2023, 120,000 people were ordered removed in absentia.", "eoir.in_absentia_orders"),
        ("Only 30 percent of immigrants in court had a lawyer in fiscal 2023.", "eoir.representation_rate"),
    ],
)
def test_metric_matching(sentence, metric):
    [c] = extract(sentence, AS_OF)
    assert c.match.metric == metric


def test_numbers_in_one_sentence_own_their_nearest_words():
    cs = extract("There were 9.5 million encounters nationwide and 1.7 million gotaways under Biden.", AS_OF)
    assert [c.match.metric for c in cs] == ["cbp.encounters", "cbp.gotaways"]
    assert cs[0].match.scope.get("region") == "nationwide"


@pytest.mark.parametrize(
    ("sentence", "reason_word"),
    [
        ("A poll found 20% of voters believe the border is under control.", "poll"),
        ("ICE deported 142,580 people in fiscal 2023.", "removals"),
        ("Agents apprehended about 8,000 migrants a day in December.", "daily"),
        ("USCIS has a backlog of 1 million affirmative asylum cases.", "USCIS"),
        ("About 11 million undocumented immigrants live in the U.S.", "unauthorized"),
    ],
)
def test_out_of_catalogue_claims_are_reported_with_a_reason(sentence, reason_word):
    [c] = extract(sentence, AS_OF)
    assert c.match.entry is None and reason_word in c.match.not_checkable


def test_change_claims_carry_direction_and_base_period():
    [c] = extract("Encounters at the southwest border fell 40% in January from a year earlier.", AS_OF)
    assert c.kind == "change" and c.direction == -1 and c.claimed_value == pytest.approx(-0.4)
    assert str(c.base_readings[0].start) == "2023-01-01"


def test_record_claims_are_flagged():
    [c] = extract("The foreign-born population reached a record 51.6 million in March.", AS_OF)
    assert c.record["kind"] == "high"


def test_sentence_splitting_keeps_abbreviations_and_offsets():
    text = "The U.S. recorded 2 million encounters. Mr. Smith disagreed.\n\nA new paragraph."
    ss = split_sentences(text)
    assert [s.text for s in ss] == ["The U.S. recorded 2 million encounters.", "Mr. Smith disagreed.", "A new paragraph."]
    assert all(text[s.start:s.end] == s.text for s in ss)
    assert ss[2].paragraph == 1


def test_period_carries_over_within_a_paragraph():
    cs = extract("In fiscal 2023, judges completed many cases. They ordered 52,440 people removed.", AS_OF)
    assert cs[0].period_source == "carried" and str(cs[0].readings[0].end) == "2023-09-30"
