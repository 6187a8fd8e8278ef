"""WeCom's callback crypto, checked against the vectors in WeCom's published sample code."""

from __future__ import annotations

import base64

import pytest

from bot.adapters.wecom.crypto import WeComCrypto, WeComCryptoError, signature

# From WeCom's WXBizMsgCrypt sample (Sample.py / Sample.cs): a 企业 whose receive id is its corpid.
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wx5823bf96d3bd56c7"
VERIFY_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
VERIFY_TIMESTAMP = "1409659589"
VERIFY_NONCE = "263014780"
VERIFY_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)
MESSAGE_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
MESSAGE_TIMESTAMP = "1409659813"
MESSAGE_NONCE = "1372623149"
MESSAGE_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
    "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLj"
    "vd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMn"
    "vw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k"
    "22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoy"
    "yH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


def test_the_official_url_verification_vector_verifies_and_decrypts() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, receive_id=CORP_ID)

    crypto.verify(VERIFY_SIGNATURE, VERIFY_TIMESTAMP, VERIFY_NONCE, VERIFY_ECHOSTR)

    assert crypto.decrypt(VERIFY_ECHOSTR) == "1616140317555161061"


def test_the_official_message_vector_verifies_and_decrypts() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, receive_id=CORP_ID)

    crypto.verify(MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT)
    message = crypto.decrypt(MESSAGE_ENCRYPT)

    assert message.startswith("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>")
    assert "<Content><![CDATA[hello]]></Content>" in message


def test_a_round_trip_with_the_empty_receive_id_of_a_smart_bot() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY)
    message = '{"msgid":"m1","text":{"content":"/投 2"}}'

    encrypted = crypto.encrypt(message)
    reply = crypto.encrypted_reply(message, timestamp="1700000000", nonce="n1")

    assert crypto.decrypt(encrypted) == message
    assert crypto.decrypt(reply["encrypt"]) == message
    crypto.verify(reply["msgsignature"], "1700000000", "n1", reply["encrypt"])
    assert len(base64.b64decode(encrypted)) % 32 == 0  # padded to 32 bytes, not 16


def test_a_message_for_another_receive_id_is_refused() -> None:
    corp = WeComCrypto(TOKEN, AES_KEY, receive_id=CORP_ID)
    bot = WeComCrypto(TOKEN, AES_KEY)

    with pytest.raises(WeComCryptoError, match="receive id"):
        bot.decrypt(corp.encrypt("{}"))


def test_a_tampered_signature_or_ciphertext_is_refused() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, receive_id=CORP_ID)
    flipped = ("Q" if MESSAGE_ENCRYPT[0] != "Q" else "R") + MESSAGE_ENCRYPT[1:]

    with pytest.raises(WeComCryptoError, match="签名不符"):
        crypto.verify("0" * 40, MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT)
    with pytest.raises(WeComCryptoError, match="签名不符"):
        crypto.verify(MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, MESSAGE_NONCE, flipped)
    with pytest.raises(WeComCryptoError):
        crypto.decrypt("bm90IGEgY2lwaGVydGV4dA==")


def test_the_signature_sorts_its_four_parts() -> None:
    assert signature("b", "a", "d", "c") == signature("a", "b", "c", "d")


@pytest.mark.parametrize("key", ["short", AES_KEY[:-1] + "!"])
def test_a_malformed_key_is_refused(key: str) -> None:
    with pytest.raises(WeComCryptoError, match="EncodingAESKey"):
        WeComCrypto(TOKEN, key)
