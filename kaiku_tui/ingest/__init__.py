"""Importers: pure parsers of Asterisk CDRs, their WAVs and WebVTT transcripts, and
Chatwoot exports into `NewRecording`s or rejections; the demo's generator.

They may import `domain`, `audio` (to check a WAV) and `errors`; the demo's bulk rows
go to the index's loader (`demo_bulk.py`). Never the register, the vault or a face.
"""
