cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  env    = { "1BAD" = "x" }
}

# want: 11:12 Invalid environment variable name: "1BAD" is not a valid environment variable name
