"""The README demo: explains its columns and prints each row as soon as it is measured."""

import functools

from sk_autoencoder import demo


def test_main_explains_the_columns_and_prints_rows_as_measured(capsys, monkeypatch):
    run_demo = demo.run_demo
    printed_before_return = []

    def one_width(**kwargs):
        # Rows reach stdout while run_demo is still running, not after it returns.
        rows = run_demo(n_components=(2,), **kwargs)
        printed_before_return.append(capsys.readouterr().out)
        return rows

    monkeypatch.setattr(demo, "run_demo", functools.partial(one_width))
    assert demo.main(["--max-epochs", "2"]) == 0
    lines = printed_before_return[0].splitlines()
    assert any(line.startswith("vs PCA:") and "PCA's" in line for line in lines)
    assert any(line.startswith("fit s:") and "2 epochs" in line for line in lines)
    pca, autoencoder = lines[lines.index(demo._HEADER) + 2 :]
    assert pca.split()[:2] == ["2", "PCA"] and pca.split()[3] == "1.00"  # its own reference
    assert autoencoder.split()[1] == "Autoencoder"
    # The ratio is the autoencoder's test MSE over PCA's at the same width.
    ratio = float(autoencoder.split()[2]) / float(pca.split()[2])
    assert abs(float(autoencoder.split()[3]) - ratio) < 0.01
