from evalkit.datasets import load_rossi


def test_rossi_shape_and_known_totals():
    # Rossi et al. (1980): 432 men, 114 arrested within 52 weeks, 216 given financial aid.
    rossi = load_rossi()
    assert rossi.shape == (432, 9)
    assert list(rossi.columns) == [
        "week",
        "arrest",
        "fin",
        "age",
        "race",
        "wexp",
        "mar",
        "paro",
        "prio",
    ]
    assert int(rossi["arrest"].sum()) == 114
    assert int(rossi["fin"].sum()) == 216
    assert rossi["week"].between(1, 52).all()


def test_example_extract_is_what_its_script_writes(tmp_path):
    # the committed synthetic extract is regenerable: tools/make_example_extract.py writes it
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "make_example_extract", root / "tools" / "make_example_extract.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    shipped = root / "evalkit" / "datasets" / "example_extract"
    for name in ("people", "offences", "custody", "deaths"):
        assert (tmp_path / f"{name}.csv").read_bytes() == (shipped / f"{name}.csv").read_bytes()


def test_example_extract_loads_as_a_cohort_with_the_calibrated_rate():
    import evalkit as ek

    tables = ek.datasets.load_example_extract()
    assert {k: len(v) for k, v in tables.items()} == {
        "people": 800,
        "offences": 2853,
        "custody": 985,
        "deaths": 10,
    }
    cohort = ek.proven_reoffending(**tables, data_end="2024-12-31")
    rate = cohort.data.groupby("group")["reoffended"].mean()
    # simulated with base_rate 0.57 for the comparison group; 4 binomial SEs at n ~ 560
    assert abs(rate["comparison"] - 0.57) < 4 * (0.57 * 0.43 / 560) ** 0.5
