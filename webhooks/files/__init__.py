"""The receiving side of file sync: signed endpoints under SYNC_WEBHOOK_URL.

``views`` (check, chunk, finalize) verify the sender and call ``services``;
``allowlist`` says which model field a request may fill (the allow-list);
``uploads`` keeps partial uploads per sender and sha256 so transfers resume;
``descriptions`` turns the file descriptions in applied events into field values.
"""
