"""Prompts of languages that Twilio cannot speak (Farsi), synthesised offline into telephone audio.

engines: which speech engine this machine has (espeak-ng with an MBROLA voice, espeak-ng's own
voice, or the libespeak-ng that the espeakng-loader package bundles). telephone: making its output
telephone-ready. store: the audio files (recordings by hand, rendered files, the manifest).
prompts: which text is spoken for a prompt. routes: /audio, which serves and renders them.
"""
