"""The SIP gateway (E1): a UDP listener, the registrar, digest authentication.

aiovoip is imported only inside this package, and this package only by the
engine when `ringtui engine run --sip` asks for it: the CLI path never loads it.
"""
