cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m" {
  type = "llm"
  path = "/m"
}

model "e" {
  type = "text2vec"
  path = "/e"
}

worker "w1" {
  server = server.s1
  model  = model.m
}

worker "w2" {
  server = server.s1
  model  = model.e
}

# want: 28:1 Port already in use: worker.w1 and worker.w2 both use port 8001 on server "s1"
