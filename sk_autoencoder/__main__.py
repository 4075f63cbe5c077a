"""``python -m sk_autoencoder``: the ``sk-autoencoder`` command line."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
