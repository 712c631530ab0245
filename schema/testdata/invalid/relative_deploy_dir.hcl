cluster {
  name = "t"
}

server "s1" {
  address    = "10.0.0.1"
  deploy_dir = "opt/hactl"
}

controller "c1" {
  server = server.s1
}

# want: 7:16 Deploy directory not absolute: deploy_dir "opt/hactl" must be an absolute path on the server
