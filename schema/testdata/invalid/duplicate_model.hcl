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

model "m" {
  type = "llm"
  path = "/m2"
}

worker "w" {
  server = server.s1
  model  = model.m
}

# want: 18:7 Duplicate model name: A model named "m" is already declared at 
