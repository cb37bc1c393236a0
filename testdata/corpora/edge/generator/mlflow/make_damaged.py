"""A damaged MLflow SQLite store for ox's importer tests (issue 10).

Takes the real MLflow 3.17.2 store `../../../mlflow/sqlite/mlflow.db`, keeps its first
64 KiB (a torn copy) and zeroes the second half of page 1 (the schema table's cells), the
kind of damage a crash during a copy or a bad disk leaves. SQLite itself then reports
"database disk image is malformed". Run from this directory.
"""
src = "../../../mlflow/sqlite/mlflow.db"
data = bytearray(open(src, "rb").read()[:65536])
page_size = int.from_bytes(data[16:18], "big")  # 4096
data[page_size // 2:page_size] = b"\0" * (page_size // 2)
open("../../mlflow/damaged.db", "wb").write(data)
