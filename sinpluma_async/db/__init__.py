"""The database, one module per concern; import each name from the module that defines it.

`engines`: the engines and the `Database` whose transactions services run in. `schema`: the
declarative base, its naming convention and the models' loader. `types`: column types and UTC
timestamps. `dialects`: whether a backend is MySQL. `statements`: the hot write statements a
`Database` prepares when it is built. `mysql_fast_lane`: how MySQL runs them, and its faster
string escaping.
"""
