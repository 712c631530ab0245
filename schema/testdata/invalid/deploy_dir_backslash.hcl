cluster {
  name = "t"
}

server "s1" {
  address    = "10.0.0.1"
  deploy_dir = "/srv/hactl\\"
}

controller "c1" {
  server = server.s1
}

# want: 7:16 Unsafe deploy directory: contains a backslash
