"""File sync: the files of synced records travel after their records.

``fields`` finds a record's file fields, ``policy`` says which files may
travel (shared by sender and receiver), ``metadata`` describes files in the
events, ``transfer`` sends them to a target (check, chunks, finalize) and
``schedule`` asks for a transfer once a batch is delivered.
"""
