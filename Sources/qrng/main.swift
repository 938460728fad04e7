import QRNGCLI

QRNGCommand.main()
