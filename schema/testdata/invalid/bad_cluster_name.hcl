cluster {
  name = "my cluster"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 2:10 Invalid cluster name: "my cluster" is not a safe name: use 1 to 64 letters, digits, '-', '_' and '.', starting with a letter or digit.
