"""The access log keeps no query string: a search term may be a personnummer."""

from __future__ import annotations

import logging

from services.common.app import PathOnlyAccessLog


def test_the_access_log_drops_the_query_string():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/customers?q=19300101-9802", "1.1", 200),
        None,
    )
    assert PathOnlyAccessLog().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /customers HTTP/1.1" 200'


def test_other_records_pass_untouched():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain", None, None)
    assert PathOnlyAccessLog().filter(record)
    assert record.getMessage() == "plain"
