"""What a person sees: streamed Markdown, images, audio, the usage line, plots."""
