"""The console adapter: messages go to the "rendao.outbox" log. The offline default."""
