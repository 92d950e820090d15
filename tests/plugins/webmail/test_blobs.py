"""Raw messages stored once by content, in the transaction of their rows (MAIL-23), on SQLite
and PostgreSQL; messages stored as files before blobs moved into the database still read."""

import pytest

from plugins.webmail.blobs import blob_id, read_blob, store_blobs
from plugins.webmail.tables import Blob
from portal.db import write_transaction

RAW = "Subject: 通知\r\n\r\n正文\r\n".encode()


async def test_the_same_content_is_stored_once_and_read_back_whole(app):
    async with write_transaction():
        ids = await store_blobs([RAW, b"Subject: other\r\n\r\nx\r\n", RAW])
    assert ids[0] == ids[2] == blob_id(RAW) and ids[1] != ids[0]
    async with write_transaction():
        await store_blobs([RAW])
    assert await Blob.count() == 2
    assert await read_blob(app.state.portal, ids[0]) == RAW


async def test_blobs_of_a_transaction_that_fails_are_not_kept(app):
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await store_blobs([RAW])
            raise RuntimeError("the rows could not be written")
    assert await Blob.count() == 0


async def test_a_message_stored_as_a_file_before_is_read_from_its_file(app):
    sha = blob_id(RAW)
    path = app.state.portal.settings.data_dir / "mail" / "blobs" / sha[:2] / sha[2:4] / sha
    path.parent.mkdir(parents=True)
    path.write_bytes(RAW)
    assert await read_blob(app.state.portal, sha) == RAW


@pytest.mark.parametrize("sha", [blob_id(b"never stored"), "../../secret_key", "0" * 63 + "G"])
async def test_an_unknown_or_malformed_id_is_not_found(app, sha):
    with pytest.raises(FileNotFoundError):
        await read_blob(app.state.portal, sha)
