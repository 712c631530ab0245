cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "text2vec" {
  type = "text2vec"
  path = "/m"
}

worker "w" {
  server = server.s1
  model  = model.text2vek
}

# want: 20:12 Reference to undeclared model: No model named "text2vek" is declared
