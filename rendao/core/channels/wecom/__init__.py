"""The WeCom (企业微信) adapter: application messages to members by user id."""
