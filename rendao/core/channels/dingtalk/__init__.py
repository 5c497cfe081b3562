"""The DingTalk adapters: work notifications from the corp app, and the signed group robot."""
