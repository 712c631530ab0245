cluster {
  name = "t"
}

defaults {
  user   = "deploy"
  run_as = "dbgpt"
}

server "s1" {
  address = "10.0.0.1"
}

server "s2" {
  address = "10.0.0.2"
  sudo    = true
}

server "s3" {
  address = "10.0.0.3"
  run_as  = "deploy"
}

controller "c1" {
  server = server.s1
}

# want: 7:12 run_as needs root: set sudo = true
