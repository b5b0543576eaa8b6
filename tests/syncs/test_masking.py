from syncs.masking import MASK, secrets_mask


def test_secret_looking_keys_are_masked_at_any_depth():
    data = {
        "username": "ada",
        "password": "pbkdf2_sha256$1$salt$hash",
        "profile": {"Access_Token": "t", "client_secret": "s", "nick": "a"},
        "keys": [{"api_key": "k", "label": "main", "private_key": "whsk_x"}],
        "SIGNING_SECRET": None,
    }
    assert secrets_mask(data) == {
        "username": "ada",
        "password": MASK,
        "profile": {"Access_Token": MASK, "client_secret": MASK, "nick": "a"},
        "keys": [{"api_key": MASK, "label": "main", "private_key": MASK}],
        "SIGNING_SECRET": MASK,
    }


def test_masking_leaves_the_original_and_plain_values_alone():
    data = {"password": "x", "tokens_left": 3}
    assert secrets_mask(data) == {"password": MASK, "tokens_left": MASK}
    assert data == {"password": "x", "tokens_left": 3}
    assert secrets_mask(["password", 1, None]) == ["password", 1, None]
