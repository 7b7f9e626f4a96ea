"""What a caller (and a consultant's whisper) hears: prompts spoken from the catalogue as <Say> or
<Play> (speaking), the values inside them worded per language through CLDR (spoken,
spoken_fields), callers' answers made comparable (answers), the sample values that check every
prompt when the catalogue loads (prompt_samples), and audio rendered for languages Twilio has no
voice for (speech)."""
