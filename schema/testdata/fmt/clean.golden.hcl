cluster {
  name = "x"
}

server "s1" {
  address = "10.0.0.1"
}
