cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server    = server.s1
  log_level = "verbose"
}

# want: 11:15 Invalid log level: log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not "VERBOSE".
