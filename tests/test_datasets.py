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
