"""Fuzzing the data loaders: every format, mutated at random, gives a clean error or loads.

For each published format a small valid file (written here, not taken from a data copy) is
mutated by hypothesis: a cell replaced by awkward text, a line removed, repeated or cut, the
line endings or the encoding changed, bytes flipped or the file truncated. The mutated file is
then checked end to end (``check_sources``: load, harmonise, panel). The outcome must be
success, or an :class:`InputError` with exit status 2, one line, naming the file; never another
exception (what the CLI would show as a traceback), and never more than the suite's memory
ceiling. Bounded by the ``ci`` profile (10 examples a format, fixed seed); ``make fuzz`` runs
the ``long`` profile.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spirallab.data import DataSources
from spirallab.data.check import check_sources
from spirallab.errors import InputError

from .memory import within_ceiling

# name -> (file name, encoding, newline, header, rows)
FORMATS: dict[str, tuple[str, str, str, str, list[str]]] = {
    "pts": ("PTS-2022.csv", "utf-8", "\r\n",
            "Country,Country_OLD,Year,COW_Code_A,COW_Code_N,WordBank_Code_A,UN_Code_N,Region,"
            "PTS_A,PTS_H,PTS_S,NA_Status_A,NA_Status_H,NA_Status_S",
            ["Chile,Chile,1980,CHL,155,CHL,152,lac,4,NA,4,0,88,0",
             "Chile,Chile,1981,CHL,155,CHL,152,lac,3,3,NA,0,0,77",
             "Kenya,Kenya,1981,KEN,501,KEN,404,ssa,NA,NA,NA,66,66,66"]),
    "fariss": ("LHRS-v4.02-2021.csv", "utf-8", "\n",
               '"","YEAR","COW","theta_mean","theta_sd","theta_q025","theta_q975"',
               ['"1",1980,155,-1.2,0.3,-1.8,-0.6', '"2",1981,155,-1.1,0.3,-1.7,-0.5',
                '"3",1981,501,0.2,0.25,-0.3,0.7']),
    "cirights": ("cirights_v1.csv", "utf-8-sig", "\r\n",
                 "country,iso_a3,year,cow,physint_sum,polpris,disap,tort,kill,assn,"
                 "NGO_investigate",
                 ["Chile,CHL,1981,155,2,0,1,0,1,0,1", "Chile,CHL,1982,155,3,1,1,0,1,1,1",
                  "Kenya,KEN,1982,501,6,2,2,1,1,2,"]),
    "ciri": ("CIRI_physint2011.csv", "latin-1", "\r",
             "CTRY,YEAR,CIRI,COW,DISAP,KILL,POLPRIS,TORT",
             ["Chile,1981,201,155,1,0,0,0", "C\xf4te d'Ivoire,1982,301,437,-66,-66,-66,-66",
              "Kenya,1982,401,501,,,,"]),
    "hathaway": ("Hathaway2002longData.csv", "utf-8", "\n", '"country","ccode","year","torture"',
                 ['"Chile",155,1985,4', '"Chile",155,1986,4', '"Kenya",501,1986,3']),
    "polity": ("p5v2018.csv", "utf-8", "\n", '"scode","country","year","polity2"',
               ['"CHL","Chile",1980,-7', '"CHL","Chile",1990,8', '"KEN","Kenya",1990,-77']),
    "ucdp": ("ucdp-onesided-221-2021.csv", "utf-8", "\n",
             '"actor_id","actor_name","year","best_fatality_estimate","is_government_actor",'
             '"gwno_location","gwnoa"',
             ['"1","Government of Kenya","1992","30","1","501","501"',
              '"2","Group B","1995","12","0","500, 501",""',
              '"3","Group C","1996","7","0","155",""']),
    "mass_killing": ("mkl_ccode_2015.csv", "utf-8", "\n",
                     '"country","year","sftgcode","mkl.start","mkl.ongoing","ccode"',
                     ['"Chile",1973,"CHL",1,1,155', '"Chile",1974,"CHL",0,1,155',
                      '"Kenya",1974,"KEN",0,0,501']),
    "ratification": ("hr_status_cat.csv", "utf-8", "\r\n",
                     "iso2,member,state party,year ratification or accession,signatory,"
                     "no action,status,note",
                     ["CL,Chile,1,1988,0,0,state party,", "KE,Kenya,1,1997,0,0,state party,",
                      "AF,Afghanistan,0,,0,1,no action,"]),
}

AWKWARD = st.sampled_from([
    "", " ", "NA", "na", "-1", "0", "1e309", "-1e309", "nan", "inf", "1.5", " 3", "3 ", "03",
    "9" * 25, "-99999999999999999999", "\u0663", "\uff19", "1,2", '"', '""', "a\"b", "\t",
    "\u00e9", "\x00", "\ufeff", "1 2", "+5", "0x10", "1_000", "True", "2200", "1699", "-0",
])
MUTATIONS = st.sampled_from(["cell", "drop_line", "repeat_line", "cut_line", "endings",
                             "encoding", "flip_byte", "truncate", "bom", "blank_lines"])


@st.composite
def mutated(draw: st.DrawFn, source: str) -> bytes:
    """A valid file of ``source`` with one to three mutations applied."""
    _, encoding, newline, header, rows = FORMATS[source]
    lines = [header, *rows]
    raw: bytes | None = None
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(MUTATIONS)
        k = draw(st.integers(0, len(lines) - 1))
        if kind == "cell":
            cells = lines[k].split(",")
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(st.one_of(AWKWARD, st.text(max_size=12)))
            lines[k] = ",".join(cells)
        elif kind == "drop_line" and len(lines) > 1:
            del lines[k]
        elif kind == "repeat_line":
            lines.insert(k, lines[k])
        elif kind == "cut_line":
            lines[k] = lines[k][: draw(st.integers(0, max(0, len(lines[k]) - 1)))]
        elif kind == "endings":
            newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
            if draw(st.booleans()):  # mix two conventions
                lines[k] += draw(st.sampled_from(["\n", "\r", "\r\n"]))
        elif kind == "encoding":
            encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16", "utf-8-sig"]))
        elif kind == "blank_lines":
            lines.insert(k, draw(st.sampled_from(["", " ", ",,,", "\t"])))
        elif kind in ("flip_byte", "truncate", "bom"):
            raw = raw or _encode(lines, encoding, newline)
            if kind == "flip_byte" and raw:
                i = draw(st.integers(0, len(raw) - 1))
                raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
            elif kind == "truncate":
                raw = raw[: draw(st.integers(0, len(raw)))]
            else:
                raw = b"\xef\xbb\xbf" + raw
    return raw if raw is not None else _encode(lines, encoding, newline)


def _encode(lines: list[str], encoding: str, newline: str) -> bytes:
    return (newline.join(lines) + newline).encode(encoding, errors="replace")


def _check(source: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / FORMATS[source][0]
        path.write_bytes(data)
        try:
            within_ceiling(lambda: check_sources(DataSources(**{source: path})))
        except InputError as exc:
            msg = str(exc)
            assert exc.exit_code == 2
            assert "\n" not in msg and "\r" not in msg, msg
            assert str(path) in msg, msg


def test_every_valid_sample_loads() -> None:
    for source in FORMATS:
        _, encoding, newline, header, rows = FORMATS[source]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / FORMATS[source][0]
            path.write_bytes(_encode([header, *rows], encoding, newline))
            result = check_sources(DataSources(**{source: path}))
            assert int(result.sources["rows"].iloc[0]) == 3, source


# A quarter of the profile's examples per format (ci: 10 each, 90 in all; long: 500 each): a
# full check of a small file takes about 0.1 s.
PER_FORMAT = max(1, settings().max_examples // 4)


@pytest.mark.fuzz
@pytest.mark.parametrize("source", list(FORMATS))
def test_fuzz_data_format(source: str) -> None:
    @settings(max_examples=PER_FORMAT)
    @given(data=mutated(source))
    def run(data: bytes) -> None:
        _check(source, data)

    run()
