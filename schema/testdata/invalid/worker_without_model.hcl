cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

worker "w" {
  server = server.s1
}

# want: 13:12 Missing required argument: The argument "model" is required, but no definition was found.
