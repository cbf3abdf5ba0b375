import matplotlib as mpl
import matplotlib.pyplot as plt

from storylab.viz._style import style


def test_style_is_scoped_but_keeps_interactive_mode_switched_on_inside():
    before = mpl.is_interactive()
    mpl.interactive(False)
    try:
        grid = plt.rcParams["axes.grid"]
        with style():
            assert plt.rcParams["axes.grid"] is True
            mpl.interactive(True)  # what the notebook backend does on the first figure
        assert plt.rcParams["axes.grid"] == grid
        assert mpl.is_interactive()
    finally:
        mpl.interactive(before)
