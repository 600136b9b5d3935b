"""bot: the runtime around Rasa: configuration, storage, the recording tracker store, the CLI."""
