cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m/../x" {
  type = "llm"
  path = "/m"
}

# want: 13:7 Invalid model name: "m/../x" is not a safe name: use 1 to 64 letters, digits, '-', '_' and '.', starting with a letter or digit.
