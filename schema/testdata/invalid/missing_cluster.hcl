server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 1:1 Missing cluster block: A cluster file needs a cluster block naming the cluster: cluster { name = "..." }.
