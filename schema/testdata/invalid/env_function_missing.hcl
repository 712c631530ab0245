cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  host   = env("HACTL_TEST_UNSET")
}

# want: 11:12 Error in function call: Call to function "env" failed: environment variable "HACTL_TEST_UNSET" is not set.
