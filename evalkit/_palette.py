"""The one palette of every evalkit figure: Okabe & Ito's colour-blind-safe colours.

Ordered darkest first: all but the last two have at least 3:1 contrast with white, as WCAG 2.1
asks of graphics (yellow, which has not, is left out). Library plots and report figures both take
their colours from here; the report's text colours are these hues darkened to 4.5:1
(``evalkit.report.figures.TEXT_PALETTE``).

Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
GREY = "#555555"  # reference lines and secondary text (7.5:1 on white)
