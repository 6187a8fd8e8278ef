"""WeCom callback crypto: the SHA-1 signature and the AES-256-CBC envelope of every callback.

WeCom's published scheme (its WXBizMsgCrypt / WXBizJsonMsgCrypt samples): the key is the
43-character EncodingAESKey plus "=", base64-decoded to 32 bytes; the IV is the key's first
16 bytes; the plaintext is 16 random bytes, the message length as 4 bytes big-endian, the
message, then the receive id (empty for a 智能机器人), padded with PKCS#7 to a multiple of
32 bytes; the signature is SHA-1 over the sorted token, timestamp, nonce and ciphertext.

The cipher, the padding and the hash are the `cryptography` package's and hashlib's; only
the framing above is ours, because no maintained library speaks the 智能机器人's JSON variant:
`wechatpy` (last release 2021) wraps the XML callbacks of 应用 and brings requests, six and
xmltodict along, and the community `wecom-aibot-sdk` covers only the long connection.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_CHARS = 43
# WeCom pads to 32 bytes, not to AES's 16-byte block: PKCS#7 with a 256-bit "block".
PAD_BITS = 256


class WeComCryptoError(Exception):
    """A callback that does not verify or decrypt; the text says which check failed."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: SHA-1 of the four strings sorted and joined."""
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()


def decode_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey shown in the admin console."""
    if len(encoding_aes_key) != KEY_CHARS:
        raise WeComCryptoError(f"EncodingAESKey 应为 {KEY_CHARS} 个字符")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as error:
        raise WeComCryptoError("EncodingAESKey 不是合法的 Base64") from error
    if len(key) != 32:
        raise WeComCryptoError("EncodingAESKey 解码后应为 32 字节")
    return key


class WeComCrypto:
    """Verifies, decrypts and encrypts one bot's callbacks (token, key and receive id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = "") -> None:
        self.token = token
        self.receive_id = receive_id
        self._key = decode_key(encoding_aes_key)

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The signature WeCom expects over a ciphertext."""
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise unless `msg_signature` signs this ciphertext (constant-time comparison)."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise WeComCryptoError("签名不符")

    def decrypt(self, encrypted: str) -> str:
        """The message inside a ciphertext; raises if it is malformed or for another bot."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as error:
            raise WeComCryptoError("密文不是合法的 Base64") from error
        if not data or len(data) % 16:
            raise WeComCryptoError("密文长度不对")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(PAD_BITS).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError as error:
            raise WeComCryptoError("填充不对") from error
        if len(plain) < 20:
            raise WeComCryptoError("明文过短")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise WeComCryptoError("消息长度不对")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WeComCryptoError("receive id 不符")
        try:
            return message.decode()
        except UnicodeDecodeError as error:
            raise WeComCryptoError("消息不是 UTF-8") from error

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        """The ciphertext of `message` as WeCom builds it (a random 16-byte prefix each time)."""
        body = message.encode()
        prefix = random_prefix if random_prefix is not None else os.urandom(16)
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        padder = padding.PKCS7(PAD_BITS).padder()
        padded = padder.update(plain) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()

    def encrypted_reply(self, message: str, *, timestamp: str, nonce: str) -> dict[str, str]:
        """A passive reply as WeCom takes it: the ciphertext with its signature."""
        encrypted = self.encrypt(message)
        return {
            "encrypt": encrypted,
            "msgsignature": self.sign(timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }
