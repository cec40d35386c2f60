package main

// mountOAuth mounts the authorization server (filled in when package oauth
// lands).
func (s *server) mountOAuth() error { return nil }
