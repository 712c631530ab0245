cluster {
  dbgpt_version = "0.6.3"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 1:9 Missing required argument: The argument "name" is required, but no definition was found.
