"""Write the default dataset shipped with `ingest` (run once; the CSV is committed).

Source: scikit-learn's bundled Wisconsin breast-cancer data (569 rows, 30 numeric
features, binary label), read from the scikit-learn package itself, so nothing is
downloaded. Column names are made snake_case; ``target`` is 1 for benign.
"""

from pathlib import Path

from sklearn.datasets import load_breast_cancer

OUT = Path(__file__).resolve().parents[1] / "components" / "ingest" / "data" / "breast_cancer.csv"

if __name__ == "__main__":
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    OUT.write_text(frame.to_csv(index=False, lineterminator="\n"))
    print(f"wrote {OUT} ({len(frame)} rows)")
