cluster {
  name = "t"
}

server "s1" {
  address      = "10.0.0.1"
  log_max_size = "32 parsecs"
}

server "s2" {
  address      = "10.0.0.2"
  log_max_size = "1KiB"
}

controller "c1" {
  server = server.s1
}

# want: 7:18 Invalid log_max_size: unknown unit
# want: 12:18 log_max_size too small: less than the minimum of 64KiB
