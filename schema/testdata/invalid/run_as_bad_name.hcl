cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
  run_as  = "db gpt"
}

controller "c1" {
  server = server.s1
}

# want: 7:13 Invalid run_as: is not a user name
