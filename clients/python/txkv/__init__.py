"""Python client for txkv over its HTTP/JSON gateway (standard library only).

    from txkv import KeyValueStore
    kv = KeyValueStore()            # http://127.0.0.1:4501
    kv.set('key', 'value')
    kv.get('key')                   # 'value'

See clients/python/README.md.
"""
from ._codec import decode_int, encode_int
from .client import DEFAULT_URL, KeyValueStore
from .errors import TxkvError
from .transaction import Transaction

__all__ = ["KeyValueStore", "Transaction", "TxkvError", "decode_int", "encode_int",
           "DEFAULT_URL"]
