"""LibreOffice in the tests: one headless ``soffice`` per session, driven through UNO.

The ``uno`` module exists only in Debian's system Python (``python3-uno``), not in the
Python that runs pytest, so every UNO job runs in ``driver.py`` under ``/usr/bin/python3``
and answers in JSON on stdout.
"""
